//! Feed documents (RSS 0.9x/1.0/2.0, Atom, JSON Feed) → [`ParsedFeed`], via feed-rs.
//!
//! Bytes are first decoded to UTF-8 ([`to_utf8`]), a document the strict parser cannot read is
//! recovered leniently ([`feed_repair`]), links are resolved against the feed URL (an entry
//! without a link takes its permalink guid or http(s) Atom id), dates are read in the common
//! non-RFC forms too, and HTML in summaries is kept as it came. [`parse_feed_raw`] stops there
//! (fields bounded and stripped of control characters, see `clean`); [`parse_feed`] also reduces
//! the markup to text.

use std::borrow::Cow;
use std::collections::HashSet;
use std::time::Duration;

use encoding_rs::Encoding;
use url::Url;

use super::charset;
use super::clean;
use super::date::parse_feed_date;
use super::feed_repair;
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
///
/// A document the strict parser refuses, or reads as holding no items although it holds
/// `<item>`/`<entry>` elements, is repaired ([`feed_repair`]) and read again; what the repair
/// changed comes back as a warning on the feed. A document that still gives no items while it
/// holds some is an error that says so, never an empty success.
pub fn parse_feed_raw(
    body: &[u8],
    content_type: Option<&str>,
    feed_url: &str,
) -> Result<ParsedFeed, ParseError> {
    let text = to_utf8(body, content_type);
    if text.trim().is_empty() {
        return Err(ParseError::Empty);
    }
    let base = Url::parse(feed_url).ok();
    let first = read_xml(&text, feed_url);
    if let Ok(feed) = &first
        && !feed.entries.is_empty()
    {
        return Ok(convert(
            first.expect("checked"),
            &text,
            base.as_ref(),
            Vec::new(),
        ));
    }
    // The slow path: no items. Either there are none, or the document needs recovering.
    let held = held_items(&text);
    if held == 0
        && let Ok(feed) = first
    {
        return Ok(convert(feed, &text, base.as_ref(), Vec::new()));
    }
    let repaired = feed_repair::repair(&text);
    let second = if repaired.fixes.is_empty() && first.is_ok() {
        Err(ParseError::NotAFeed("nothing to repair".into()))
    } else {
        read_xml(&repaired.text, feed_url)
    };
    match (first, second) {
        (_, Ok(feed)) if !feed.entries.is_empty() || held == 0 => {
            let warning = format!("recovered from malformed XML: {}", repaired.fixes);
            Ok(convert(feed, &repaired.text, base.as_ref(), vec![warning]))
        }
        (Err(e), Err(_)) if held == 0 => Err(e),
        (first, second) => {
            let reason = match (first, second) {
                (Err(e), _) => e.to_string(),
                (_, Err(ParseError::NotAFeed(e))) if e != "nothing to repair" => e,
                _ => match first_element(&text) {
                    Some(root) => format!(
                        "they are not where an RSS, RDF or Atom reader looks for them (root element <{root}>)"
                    ),
                    None => "the document has no root element".into(),
                },
            };
            Err(ParseError::NoItems { held, reason })
        }
    }
}

/// Reads XML (or JSON Feed) text with feed-rs. The XML parser underneath can panic on some
/// malformed documents (e.g. an XML declaration naming an encoding after the start); a hostile
/// feed must fail, not take the poll down.
fn read_xml(text: &str, feed_url: &str) -> Result<feed_rs::model::Feed, ParseError> {
    let parser = feed_rs::parser::Builder::new()
        .base_uri(Some(feed_url))
        .id_generator(stable_id)
        .timestamp_parser(parse_feed_date)
        .build();
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        parser.parse(text.as_bytes())
    }))
    .map_err(|_| ParseError::NotAFeed("the XML parser gave up on this document".into()))?
    .map_err(|e| ParseError::NotAFeed(e.to_string()))
}

/// feed-rs's own ids for entries without one (from the link and title, else the feed URL and
/// title), but never a random one: an entry with neither link nor title gets an empty id here
/// and one made from its content in [`to_item`], so that it is recognised on the next poll.
fn stable_id(
    links: &[feed_rs::model::Link],
    title: &Option<feed_rs::model::Text>,
    uri: Option<&str>,
) -> String {
    if links.is_empty() && (title.is_none() || uri.is_none()) {
        return String::new();
    }
    feed_rs::parser::generate_id(links, title, uri)
}

fn convert(
    feed: feed_rs::model::Feed,
    text: &str,
    base: Option<&Url>,
    warnings: Vec<String>,
) -> ParsedFeed {
    let language = feed.language.as_deref().map(normalise_language);
    let atom = feed.feed_type == feed_rs::model::FeedType::Atom;
    let rss2 = feed.feed_type == feed_rs::model::FeedType::RSS2;
    let count = feed.entries.len();
    let mut not_permalinks = None;
    let mut fallback_links = None;
    let items = feed
        .entries
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let mut item = to_item(e, base);
            if item.url.is_none() && (rss2 || atom) {
                let links = fallback_links.get_or_insert_with(|| links_of_items(text, atom));
                if links.len() == count {
                    item.url = links[i].as_deref().and_then(|href| resolve(base, href));
                }
            }
            if item.url.is_none() {
                item.url = link_from_id(&item.guid, atom, base, || {
                    not_permalinks.get_or_insert_with(|| not_permalink_guids(text))
                });
            }
            if item.canonical_url.is_none() {
                item.canonical_url = item.url.as_deref().and_then(canonical_url);
            }
            // Bounded once every link is known (a fallback link is capped like any other).
            clean::bound_raw(&mut item);
            item
        })
        .collect();
    ParsedFeed {
        title: feed.title.map(|t| clean::title(&t.content)),
        language,
        ttl: feed.ttl.map(|m| Duration::from_secs(u64::from(m) * 60)),
        items,
        warnings,
    }
}

/// The link of an entry that has none, from its id: an RSS `<guid>` (unless marked
/// `isPermaLink="false"`) that is a URL, or a path resolved against the feed's base; an Atom
/// `<id>` that is an http(s) URL.
fn link_from_id<'s>(
    id: &str,
    atom: bool,
    base: Option<&Url>,
    not_permalinks: impl FnOnce() -> &'s HashSet<String>,
) -> Option<String> {
    let id = id.trim();
    let scheme = id.get(..8).unwrap_or(id).to_ascii_lowercase();
    let absolute = scheme.starts_with("http://") || scheme.starts_with("https://");
    let path = !atom && id.starts_with('/') && !id.starts_with("//");
    if !(absolute || path) || id.contains(char::is_whitespace) {
        return None;
    }
    if !atom && not_permalinks().contains(id) {
        return None;
    }
    resolve(base, id)
}

/// The text of every `<guid isPermaLink="false">` of the document.
fn not_permalink_guids(text: &str) -> HashSet<String> {
    let mut out = HashSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("isPermaLink") {
        rest = &rest[at + "isPermaLink".len()..];
        let value = rest
            .trim_start()
            .strip_prefix('=')
            .map(|v| v.trim_start().trim_start_matches(['"', '\'']));
        if !value.is_some_and(|v| v[..v.len().min(5)].eq_ignore_ascii_case("false")) {
            continue;
        }
        let Some(open) = rest.find('>') else { break };
        let body = &rest[open + 1..];
        let close = body.find("</").unwrap_or(body.len());
        let guid = body[..close]
            .trim()
            .trim_start_matches("<![CDATA[")
            .trim_end_matches("]]>")
            .replace("&amp;", "&");
        out.insert(guid.trim().to_string());
    }
    out
}

/// Links feed-rs does not read, for each item in document order: the `<atom:link href>` of an
/// RSS 2.0 `<item>` (.NET's feed writer links items that way), the text of an Atom `<link>`
/// written without `href` (`<link>http://…</link>`).
fn links_of_items(text: &str, atom: bool) -> Vec<Option<String>> {
    let (item, link) = if atom {
        ("<entry", "<link".to_string())
    } else {
        let Some(at) = text.find("=\"http://www.w3.org/2005/Atom\"") else {
            return Vec::new();
        };
        let decl = &text[..at];
        let Some(start) = decl.rfind("xmlns:") else {
            return Vec::new();
        };
        (
            "<item",
            format!("<{}:link", &decl[start + "xmlns:".len()..]),
        )
    };
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(item) {
        rest = &rest[at + item.len()..];
        if !rest.starts_with(|c: char| c.is_whitespace() || c == '>') {
            continue;
        }
        let block = &rest[..rest
            .find(&format!("</{}", &item[1..]))
            .unwrap_or(rest.len())];
        let href = block.match_indices(&link).find_map(|(i, _)| {
            let after = &block[i + link.len()..];
            if !after.starts_with(|c: char| c.is_whitespace() || c == '>' || c == '/') {
                return None;
            }
            let tag = &after[..after.find('>')?];
            if attribute(tag, "rel").is_some_and(|r| r != "alternate") {
                return None;
            }
            match attribute(tag, "href") {
                Some(href) if !atom => Some(href),
                Some(_) => None,
                None if atom && !tag.ends_with('/') => {
                    let body = &after[tag.len() + 1..];
                    Some(body[..body.find('<')?].trim())
                }
                None => None,
            }
        });
        out.push(href.map(|h| h.replace("&amp;", "&")));
    }
    out
}

/// The value of `name="…"` (or `'…'`) in the text of a start tag.
fn attribute<'t>(tag: &'t str, name: &str) -> Option<&'t str> {
    tag.match_indices(name).find_map(|(i, _)| {
        let before = tag[..i].chars().next_back();
        if !before.is_some_and(char::is_whitespace) {
            return None;
        }
        let v = tag[i + name.len()..]
            .trim_start()
            .strip_prefix('=')?
            .trim_start();
        let q = v.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let v = &v[1..];
        Some(&v[..v.find(q)?])
    })
}

/// How many `<item>` / `<entry>` start tags (with or without a prefix) the document holds.
fn held_items(text: &str) -> usize {
    let mut n = 0;
    for (at, _) in text.match_indices('<') {
        let tag = &text[at + 1..];
        let name_end = tag
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .unwrap_or(tag.len());
        let local = tag[..name_end].rsplit(':').next().unwrap_or("");
        if local == "item" || local == "entry" {
            n += 1;
        }
    }
    n
}

/// The name of the document's first element, for error messages.
fn first_element(text: &str) -> Option<&str> {
    let mut rest = text;
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        if rest.starts_with(char::is_alphabetic) {
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
                .unwrap_or(rest.len());
            return Some(&rest[..end]);
        }
    }
    None
}

/// One entry as the document gave it: title and text are left to [`clean::finish`], fields are
/// bounded by [`convert`] once its links are known.
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
    let title_html = e.title.map(|t| t.content);
    let guid = if e.id.is_empty() {
        // Only entries without a title get here in practice (see `stable_id`).
        content_id(
            title_html.as_deref().unwrap_or(""),
            summary_html.as_deref(),
            content_html.as_deref(),
            e.published,
        )
    } else {
        e.id
    };
    ParsedItem {
        guid,
        canonical_url: url.as_deref().and_then(canonical_url),
        url,
        title: String::new(),
        title_html,
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
    }
}

/// An id for an entry that has neither id, link nor title: a digest of what it says (as the
/// document gave it, before any bound).
fn content_id(
    title: &str,
    summary: Option<&str>,
    content: Option<&str>,
    published: Option<chrono::DateTime<chrono::Utc>>,
) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in [title, summary.unwrap_or(""), content.unwrap_or("")] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    if let Some(p) = published {
        h.update(p.to_rfc3339().as_bytes());
    }
    format!("content:{}", hex::encode(&h.finalize()[..16]))
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
///
/// A byte-order mark wins, then UTF-16 recognised by its first `<`. Otherwise bytes that are
/// valid UTF-8 are read as UTF-8, whatever the HTTP charset or the XML declaration claim (a
/// declared `utf-16` sent as UTF-8, a server default of ISO-8859-1 over a UTF-8 document: valid
/// UTF-8 is never meant as a legacy encoding in practice). Bytes that are not UTF-8 are read with
/// the HTTP charset, then the XML declaration (RFC 7303 order), the first that decodes them
/// without error; failing both, with the encoding detected as the HTML decoder detects it.
pub fn to_utf8<'a>(body: &'a [u8], content_type: Option<&str>) -> Cow<'a, str> {
    if let Some((enc, bom_len)) = Encoding::for_bom(body) {
        let (text, _) = enc.decode_without_bom_handling(&body[bom_len..]);
        return fix_declaration(text);
    }
    if let Some(enc) = utf16_by_first_bytes(body) {
        let (text, _) = enc.decode_without_bom_handling(body);
        return fix_declaration(text);
    }
    if let Ok(text) = std::str::from_utf8(body) {
        return fix_declaration(Cow::Borrowed(text));
    }
    let http = content_type
        .and_then(charset::charset_param)
        .and_then(charset::label);
    let declared = xml_declared_encoding(body).and_then(|l| charset::label(&l));
    for enc in [http, declared].into_iter().flatten() {
        if enc == encoding_rs::UTF_8 {
            continue; // the bytes are not UTF-8
        }
        let (text, had_errors) = enc.decode_without_bom_handling(body);
        if !had_errors {
            return fix_declaration(text);
        }
    }
    let (text, _) = charset::detect(body).decode_without_bom_handling(body);
    fix_declaration(text)
}

/// UTF-16 without a byte-order mark, told by how its first `<` is written (XML 1.0, appendix F).
fn utf16_by_first_bytes(body: &[u8]) -> Option<&'static Encoding> {
    match body {
        [b'<', 0, c, 0, ..] if *c != 0 => Some(encoding_rs::UTF_16LE),
        [0, b'<', 0, c, ..] if *c != 0 => Some(encoding_rs::UTF_16BE),
        _ => None,
    }
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
        // declaration that comes after the start of the document. The strict read fails
        // without a panic; the lenient one drops the misplaced declaration.
        let body = b"=?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss version=\"2.0\"><channel><title>t</title></channel></rss>";
        assert!(read_xml(std::str::from_utf8(body).unwrap(), "https://x.eu/").is_err());
        let feed = parse_feed(body, None, "https://x.eu/").unwrap();
        assert_eq!(feed.title.as_deref(), Some("t"));
        assert_eq!(feed.warnings.len(), 1, "{:?}", feed.warnings);
    }

    #[test]
    fn garbage_is_a_parse_error_not_a_panic() {
        assert!(parse_feed(b"<html><body>hi</body></html>", None, "https://x.eu/").is_err());
        assert_eq!(
            parse_feed(b"  ", None, "https://x.eu/").unwrap_err(),
            ParseError::Empty
        );
    }

    fn urls(feed: &ParsedFeed) -> Vec<Option<&str>> {
        feed.items.iter().map(|i| i.url.as_deref()).collect()
    }

    #[test]
    fn broken_xml_is_recovered_with_a_warning() {
        // Regression (issue 14): a stray '&', an unclosed CDATA and control characters made
        // the whole feed fail.
        let body = "<rss version=\"2.0\"><channel><title>Press & news</title>\
            <item><title>EU & NATO\u{1}</title><link>https://x.eu/a?b=1&c=2</link><description><![CDATA[<p>x</p></description></item>\
            <item><title>Two</title><link>https://x.eu/b</link></item></channel></rss>";
        let feed = parse_feed(body.as_bytes(), None, "https://x.eu/rss").unwrap();
        assert_eq!(feed.items.len(), 2);
        assert_eq!(feed.items[0].title, "EU & NATO");
        assert_eq!(feed.items[0].url.as_deref(), Some("https://x.eu/a?b=1&c=2"));
        assert_eq!(
            feed.warnings,
            [
                "recovered from malformed XML: 3 unescaped '&' escaped; 1 unclosed CDATA section(s) closed; 1 invalid character(s) dropped"
            ]
        );
    }

    #[test]
    fn rss_with_a_default_namespace_is_read_not_a_silent_zero() {
        // Regression (issue 14): parsed to zero items and the feed showed ok.
        let body = br#"<rss version="2.0" xmlns="http://backend.userland.com/rss2"><channel><title>t</title>
            <item><title>a</title><link>https://x.eu/a</link></item></channel></rss>"#;
        let feed = parse_feed(body, None, "https://x.eu/rss").unwrap();
        assert_eq!(urls(&feed), [Some("https://x.eu/a")]);
        assert_eq!(feed.warnings.len(), 1);
    }

    #[test]
    fn a_document_holding_items_that_give_none_is_an_error_with_a_reason() {
        let body = b"<channel><item><title>a</title></item><item><title>b</title></item></channel>";
        let e = parse_feed(body, None, "https://x.eu/rss").unwrap_err();
        assert_eq!(
            e.to_string(),
            "the document holds 2 <item>/<entry> elements but none could be read: not a feed: unable to parse feed: no root element"
        );
        // An empty feed is fine.
        let feed = parse_feed(
            b"<rss version=\"2.0\"><channel><title>t</title></channel></rss>",
            None,
            "https://x.eu/",
        )
        .unwrap();
        assert!(feed.items.is_empty() && feed.warnings.is_empty());
    }

    #[test]
    fn declared_utf16_sent_as_utf8_is_read() {
        // Regression (issue 14): failed with "no root element".
        let body = "<?xml version=\"1.0\" encoding=\"utf-16\"?><rss version=\"2.0\"><channel><title>Sécurité</title><item><title>Défense</title><guid>1</guid></item></channel></rss>";
        let feed = parse_feed(
            body.as_bytes(),
            Some("application/rss+xml"),
            "https://x.eu/",
        )
        .unwrap();
        assert_eq!(
            (feed.title.as_deref(), feed.items[0].title.as_str()),
            (Some("Sécurité"), "Défense")
        );
        // Real UTF-16 without a byte-order mark.
        let utf16: Vec<u8> = body.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let feed = parse_feed(&utf16, None, "https://x.eu/").unwrap();
        assert_eq!(feed.items[0].title, "Défense");
    }

    #[test]
    fn http_charset_and_xml_declaration_that_disagree() {
        // UTF-8 bytes under a server default of ISO-8859-1: valid UTF-8 wins.
        let body = "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>t</title><item><title>Défense</title><guid>1</guid></item></channel></rss>";
        let feed = parse_feed(
            body.as_bytes(),
            Some("text/xml; charset=ISO-8859-1"),
            "https://x.eu/",
        )
        .unwrap();
        assert_eq!(feed.items[0].title, "Défense");
        // Windows-1252 bytes declared UTF-8 by the server and windows-1252 by the document.
        let body = b"<?xml version=\"1.0\" encoding=\"windows-1252\"?><rss version=\"2.0\"><channel><title>t</title><item><title>\x93D\xe9fense\x94</title><guid>1</guid></item></channel></rss>";
        let feed = parse_feed(
            body,
            Some("application/xml; charset=utf-8"),
            "https://x.eu/",
        )
        .unwrap();
        assert_eq!(feed.items[0].title, "\u{201c}Défense\u{201d}");
    }

    #[test]
    fn permalink_guids_and_http_atom_ids_become_links() {
        // Regression (issue 14): items whose only URL was their guid or id had no link.
        let rss = br#"<rss version="2.0"><channel><title>t</title>
            <item><title>a</title><guid>https://x.eu/news/a</guid></item>
            <item><title>b</title><guid isPermaLink="false">https://x.eu/news/b</guid></item>
            <item><title>c</title><guid>/news/c</guid></item>
            <item><title>d</title><guid>12345</guid></item></channel></rss>"#;
        let feed = parse_feed(rss, None, "https://x.eu/rss.xml").unwrap();
        assert_eq!(
            urls(&feed),
            [
                Some("https://x.eu/news/a"),
                None,
                Some("https://x.eu/news/c"),
                None
            ]
        );
        assert_eq!(
            feed.items[3].guid, "12345",
            "linkless items keep their guid"
        );
        let atom = br#"<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
            <entry><title>a</title><id>https://x.eu/a</id></entry>
            <entry><title>b</title><id>tag:x.eu,2024:b</id></entry></feed>"#;
        let feed = parse_feed(atom, None, "https://x.eu/atom").unwrap();
        assert_eq!(urls(&feed), [Some("https://x.eu/a"), None]);
    }

    #[test]
    fn an_entry_without_id_link_or_title_gets_a_stable_id() {
        let body = b"<rss version=\"2.0\"><channel><title>t</title><item><description>Only text</description></item></channel></rss>";
        let a = parse_feed(body, None, "https://x.eu/").unwrap();
        let b = parse_feed(body, None, "https://x.eu/").unwrap();
        assert_eq!(a.items[0].guid, b.items[0].guid);
        assert!(a.items[0].guid.starts_with("content:"));
    }

    #[test]
    fn a_non_rfc_pub_date_is_read() {
        let body = b"<rss version=\"2.0\"><channel><title>t</title><item><title>a</title><guid>1</guid><pubDate>Sat, Dec 16 2023 02:02:33 PM</pubDate></item></channel></rss>";
        let feed = parse_feed(body, None, "https://x.eu/").unwrap();
        assert_eq!(
            feed.items[0].published.unwrap().to_rfc3339(),
            "2023-12-16T14:02:33+00:00"
        );
    }
}
