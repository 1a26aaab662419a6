//! Feed documents (RSS 0.9x/1.0/2.0, Atom, JSON Feed) → [`ParsedFeed`], via feed-rs.
//!
//! Bytes are first decoded to UTF-8 (BOM, then the XML declaration, then the HTTP charset, then
//! UTF-8 if valid, else Windows-1252), links are resolved against the feed URL, and HTML in
//! summaries is kept as it came. [`parse_feed_raw`] stops there (fields bounded and stripped of
//! control characters, see `clean`); [`parse_feed`] also reduces the markup to text.

use std::borrow::Cow;
use std::time::Duration;

use encoding_rs::Encoding;
use url::Url;

use super::clean;
use crate::error::ParseError;
use crate::model::{ParsedFeed, ParsedItem};

/// Parses a feed document fetched from `feed_url`, its items finished (markup made text).
pub fn parse_feed(
    body: &[u8],
    content_type: Option<&str>,
    feed_url: &str,
) -> Result<ParsedFeed, ParseError> {
    let mut feed = parse_feed_raw(body, content_type, feed_url)?;
    feed.items.iter_mut().for_each(clean::finish);
    Ok(feed)
}

/// Parses a feed document fetched from `feed_url`; item titles and texts are left to
/// [`clean::finish`] (see `ParsedItem::title_html`), so that unchanged items cost nothing more.
pub fn parse_feed_raw(
    body: &[u8],
    content_type: Option<&str>,
    feed_url: &str,
) -> Result<ParsedFeed, ParseError> {
    let text = to_utf8(body, content_type);
    if text.trim().is_empty() {
        return Err(ParseError::Empty);
    }
    let parser = feed_rs::parser::Builder::new()
        .base_uri(Some(feed_url))
        .build();
    // The XML parser underneath can panic on some malformed documents (e.g. an XML declaration
    // naming an encoding after the start); a hostile feed must fail, not take the poll down.
    let feed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        parser.parse(text.as_bytes())
    }))
    .map_err(|_| ParseError::NotAFeed("the XML parser gave up on this document".into()))?
    .map_err(|e| ParseError::NotAFeed(e.to_string()))?;
    let base = Url::parse(feed_url).ok();
    let language = feed.language.as_deref().map(normalise_language);
    let items = feed
        .entries
        .into_iter()
        .map(|e| to_item(e, base.as_ref()))
        .collect();
    Ok(ParsedFeed {
        title: feed.title.map(|t| clean::title(&t.content)),
        language,
        ttl: feed.ttl.map(|m| Duration::from_secs(u64::from(m) * 60)),
        items,
    })
}

fn to_item(e: feed_rs::model::Entry, base: Option<&Url>) -> ParsedItem {
    let link = e
        .links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .or_else(|| e.links.first())
        .map(|l| l.href.trim().to_string());
    let url = link.and_then(|href| resolve(base, &href));
    let summary_html = e
        .summary
        .map(|t| t.content)
        .filter(|s| !s.trim().is_empty());
    let content_html = e
        .content
        .and_then(|c| c.body)
        .filter(|s| !s.trim().is_empty());
    let mut item = ParsedItem {
        guid: e.id,
        canonical_url: url.as_deref().and_then(canonical_url),
        url,
        title: String::new(),
        title_html: e.title.map(|t| t.content),
        summary_html,
        content_html,
        text: String::new(),
        author: e
            .authors
            .iter()
            .find_map(|p| p.name.as_deref().map(str::trim).filter(|n| !n.is_empty()))
            .map(str::to_string),
        published: e.published.or(e.updated),
        language: e.language.as_deref().map(normalise_language),
    };
    clean::bound_raw(&mut item);
    item
}

fn resolve(base: Option<&Url>, href: &str) -> Option<String> {
    let url = match base {
        Some(b) => b.join(href).ok()?,
        None => Url::parse(href).ok()?,
    };
    matches!(url.scheme(), "http" | "https").then(|| url.to_string())
}

/// Query parameters that only track a click, never select an article.
const TRACKING: &[&str] = &[
    "fbclid",
    "gclid",
    "mc_cid",
    "mc_eid",
    "ref",
    "at_medium",
    "at_campaign",
];

/// The form of a URL used to recognise the same article across feeds: https, no fragment,
/// no tracking parameters, no trailing slash.
pub fn canonical_url(url: &str) -> Option<String> {
    let mut u = Url::parse(url).ok()?;
    if u.scheme() == "http" {
        u.set_scheme("https").ok()?;
        if u.port() == Some(80) {
            u.set_port(None).ok()?;
        }
    }
    u.set_fragment(None);
    let kept: Vec<(String, String)> = u
        .query_pairs()
        .filter(|(k, _)| !k.starts_with("utm_") && !TRACKING.contains(&k.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        u.set_query(None);
    } else {
        u.query_pairs_mut().clear().extend_pairs(kept);
    }
    let path = u.path().to_string();
    if path.len() > 1 && path.ends_with('/') {
        u.set_path(path.trim_end_matches('/'));
    }
    Some(u.to_string())
}

/// `en-GB`, `EN_us` → `en`.
pub fn normalise_language(tag: &str) -> String {
    tag.trim()
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Decodes a feed body to UTF-8 and makes its XML declaration say so.
pub fn to_utf8<'a>(body: &'a [u8], content_type: Option<&str>) -> Cow<'a, str> {
    if let Some((enc, bom_len)) = Encoding::for_bom(body) {
        let (text, _) = enc.decode_without_bom_handling(&body[bom_len..]);
        return fix_declaration(text);
    }
    let declared = xml_declared_encoding(body)
        .or_else(|| content_type.and_then(charset_of))
        .and_then(|label| Encoding::for_label(label.as_bytes()));
    let enc = match declared {
        Some(enc) => enc,
        None if std::str::from_utf8(body).is_ok() => encoding_rs::UTF_8,
        None => encoding_rs::WINDOWS_1252,
    };
    // A document that claims UTF-8 but is not is most often Windows-1252 in practice.
    let enc = if enc == encoding_rs::UTF_8 && std::str::from_utf8(body).is_err() {
        encoding_rs::WINDOWS_1252
    } else {
        enc
    };
    let (text, _) = enc.decode_without_bom_handling(body);
    fix_declaration(text)
}

fn charset_of(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

/// The `encoding="…"` of an `<?xml …?>` declaration at the start of the document.
fn xml_declared_encoding(body: &[u8]) -> Option<String> {
    let head = &body[..body.len().min(256)];
    let head = String::from_utf8_lossy(head);
    let decl = head.trim_start().strip_prefix("<?xml")?;
    let decl = &decl[..decl.find("?>")?];
    let at = decl.find("encoding")?;
    let rest = decl[at + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?;
    let rest = rest.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let rest = &rest[1..];
    Some(rest[..rest.find(quote)?].to_string())
}

/// Rewrites the declared encoding to UTF-8, since the text now is UTF-8.
fn fix_declaration(text: Cow<'_, str>) -> Cow<'_, str> {
    let trimmed = text.trim_start_matches('\u{feff}');
    if !trimmed.trim_start().starts_with("<?xml") {
        return text;
    }
    let Some(end) = trimmed.find("?>") else {
        return text;
    };
    let decl = &trimmed[..end];
    match decl.find("encoding") {
        Some(_) => {
            let fixed_decl = "<?xml version=\"1.0\" encoding=\"utf-8\"";
            Cow::Owned(format!("{fixed_decl}{}", &trimmed[end..]))
        }
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_url_drops_tracking_and_fragment() {
        assert_eq!(
            canonical_url("http://EC.Europa.eu/news/item-1/?utm_source=rss&id=4#top").unwrap(),
            "https://ec.europa.eu/news/item-1?id=4"
        );
        assert_eq!(
            canonical_url("https://x.eu/a/b/").unwrap(),
            canonical_url("https://x.eu/a/b?utm_medium=feed").unwrap()
        );
    }

    #[test]
    fn latin1_feed_is_decoded_by_its_declaration() {
        let body = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss version=\"2.0\"><channel><title>Caf\xe9</title><item><title>D\xe9fense</title><guid>1</guid></item></channel></rss>";
        let feed = parse_feed(body, Some("application/xml"), "https://x.eu/rss").unwrap();
        assert_eq!(feed.title.as_deref(), Some("Café"));
        assert_eq!(feed.items[0].title, "Défense");
    }

    #[test]
    fn http_charset_applies_when_the_declaration_is_silent() {
        let body = b"<rss version=\"2.0\"><channel><title>x</title><item><title>S\xe9curit\xe9</title><guid>1</guid></item></channel></rss>";
        let feed = parse_feed(
            body,
            Some("text/xml; charset=windows-1252"),
            "https://x.eu/",
        )
        .unwrap();
        assert_eq!(feed.items[0].title, "Sécurité");
    }

    #[test]
    fn relative_links_resolve_and_html_summary_becomes_text() {
        let body = br#"<rss version="2.0"><channel><title>t</title><language>en-GB</language><ttl>60</ttl>
          <item><title>A &amp; B</title><link>/news/a</link><guid>g1</guid>
          <description>&lt;p&gt;First&lt;/p&gt;&lt;p&gt;Second &amp;amp; last&lt;/p&gt;</description></item>
        </channel></rss>"#;
        let feed = parse_feed(
            body,
            None,
            "https://digital-strategy.ec.europa.eu/en/rss.xml",
        )
        .unwrap();
        assert_eq!(feed.language.as_deref(), Some("en"));
        assert_eq!(feed.ttl, Some(Duration::from_secs(3600)));
        let it = &feed.items[0];
        assert_eq!(
            it.url.as_deref(),
            Some("https://digital-strategy.ec.europa.eu/news/a")
        );
        assert_eq!(it.title, "A & B");
        assert_eq!(it.text, "First\nSecond & last");
        assert!(it.summary_html.as_deref().unwrap().contains("<p>"));
    }

    #[test]
    fn late_xml_declaration_is_a_parse_error_not_a_panic() {
        // Regression (found by the property tests): quick-xml panicked on an encoding
        // declaration that comes after the start of the document.
        let body = b"=?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss version=\"2.0\"><channel><title>t</title></channel></rss>";
        assert!(parse_feed(body, None, "https://x.eu/").is_err());
    }

    #[test]
    fn garbage_is_a_parse_error_not_a_panic() {
        assert!(parse_feed(b"<html><body>hi</body></html>", None, "https://x.eu/").is_err());
        assert_eq!(
            parse_feed(b"  ", None, "https://x.eu/").unwrap_err(),
            ParseError::Empty
        );
    }
}
