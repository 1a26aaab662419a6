//! The `kind`, `[feeds.html]` and `[feeds.json]` keys of a feed, as written in the file, and
//! their validation into a [`Source`] with errors that name the key and the fix.

use std::ops::Range;

use serde::Deserialize;
use serde_spanned::Spanned;
use url::Url;

use super::{
    DEFAULT_MAX_PAGES, HtmlRules, JsonPath, JsonRules, MAX_PAGES_LIMIT, RuleError, Source,
};
use crate::error::ConfigError;

/// `kind = "rss" | "html" | "json"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    #[default]
    Rss,
    Html,
    Json,
}

/// `[feeds.html]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHtml {
    item: Spanned<String>,
    link: Spanned<String>,
    title: Option<Spanned<String>>,
    date: Option<Spanned<String>>,
    summary: Option<Spanned<String>>,
    next_page: Option<Spanned<String>>,
    max_pages: Option<Spanned<i64>>,
}

/// `[feeds.json]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawJson {
    items: Spanned<String>,
    link: Spanned<String>,
    title: Option<Spanned<String>>,
    date: Option<Spanned<String>>,
    summary: Option<Spanned<String>>,
    guid: Option<Spanned<String>>,
    base_url: Option<Spanned<String>>,
}

/// The source keys of one `[[feeds]]` entry.
pub struct RawSource {
    pub kind: Option<Spanned<Kind>>,
    pub html: Option<Spanned<RawHtml>>,
    pub json: Option<Spanned<RawJson>>,
}

/// Builds a located error from a span, a key (relative to the feed) and a message.
pub type ErrorAt<'a> = &'a dyn Fn(Range<usize>, &str, String) -> ConfigError;

/// Validates the source keys of a feed; `at` is where to point when a table is missing.
pub fn source(raw: RawSource, at: Range<usize>, err: ErrorAt<'_>) -> Result<Source, ConfigError> {
    let kind = raw.kind.as_ref().map_or(Kind::Rss, |k| *k.get_ref());
    let kind_span = raw.kind.as_ref().map_or(at, |k| k.span());
    if kind != Kind::Html
        && let Some(h) = &raw.html
    {
        return Err(err(
            h.span(),
            "html",
            format!(
                "a [feeds.html] table only applies to kind = \"html\", and this feed is kind = \"{}\"; add kind = \"html\" to the feed or remove the table",
                name(kind)
            ),
        ));
    }
    if kind != Kind::Json
        && let Some(j) = &raw.json
    {
        return Err(err(
            j.span(),
            "json",
            format!(
                "a [feeds.json] table only applies to kind = \"json\", and this feed is kind = \"{}\"; add kind = \"json\" to the feed or remove the table",
                name(kind)
            ),
        ));
    }
    match kind {
        Kind::Rss => Ok(Source::Rss),
        Kind::Html => {
            let Some(h) = raw.html else {
                return Err(err(
                    kind_span,
                    "html",
                    "kind = \"html\" needs a [feeds.html] table after this feed, with at least `item` and `link` selectors (e.g. item = \"div.card\", link = \"a[href]\")".into(),
                ));
            };
            html_rules(h.into_inner(), err).map(Source::Html)
        }
        Kind::Json => {
            let Some(j) = raw.json else {
                return Err(err(
                    kind_span,
                    "json",
                    "kind = \"json\" needs a [feeds.json] table after this feed, with at least `items` and `link` paths (e.g. items = \"data.items\", link = \"url\")".into(),
                ));
            };
            json_rules(j.into_inner(), err).map(|r| Source::Json(Box::new(r)))
        }
    }
}

fn name(kind: Kind) -> &'static str {
    match kind {
        Kind::Rss => "rss",
        Kind::Html => "html",
        Kind::Json => "json",
    }
}

fn html_rules(h: RawHtml, err: ErrorAt<'_>) -> Result<HtmlRules, ConfigError> {
    let opt = |s: &Option<Spanned<String>>| s.as_ref().map(|s| s.get_ref().clone());
    let max_pages = match (&h.max_pages, &h.next_page) {
        (Some(m), _) if !(1..=i64::from(MAX_PAGES_LIMIT)).contains(m.get_ref()) => {
            return Err(err(
                m.span(),
                "html.max_pages",
                format!(
                    "max_pages = {} is out of range; expected 1 to {MAX_PAGES_LIMIT}",
                    m.get_ref()
                ),
            ));
        }
        (Some(m), None) if *m.get_ref() > 1 => {
            return Err(err(
                m.span(),
                "html.max_pages",
                "max_pages needs next_page, the selector of the link to the next page (e.g. next_page = \"a[rel=next]\"); add it or remove max_pages".into(),
            ));
        }
        (Some(m), _) => *m.get_ref() as u32,
        (None, Some(_)) => DEFAULT_MAX_PAGES,
        (None, None) => 1,
    };
    let rules = HtmlRules {
        item: h.item.get_ref().clone(),
        link: h.link.get_ref().clone(),
        title: opt(&h.title),
        date: opt(&h.date),
        summary: opt(&h.summary),
        next_page: opt(&h.next_page),
        max_pages,
    };
    rules.validate().map_err(|RuleError { field, message }| {
        let span = match field {
            "item" => Some(h.item.span()),
            "link" => Some(h.link.span()),
            "title" => h.title.as_ref().map(Spanned::span),
            "date" => h.date.as_ref().map(Spanned::span),
            "summary" => h.summary.as_ref().map(Spanned::span),
            _ => h.next_page.as_ref().map(Spanned::span),
        };
        err(
            span.unwrap_or_else(|| h.item.span()),
            &format!("html.{field}"),
            message,
        )
    })?;
    Ok(rules)
}

fn json_rules(j: RawJson, err: ErrorAt<'_>) -> Result<JsonRules, ConfigError> {
    let path = |field: &str, s: &Spanned<String>| {
        JsonPath::parse(s.get_ref()).map_err(|m| err(s.span(), &format!("json.{field}"), m))
    };
    let opt =
        |field: &str, s: &Option<Spanned<String>>| s.as_ref().map(|s| path(field, s)).transpose();
    let base_url = match &j.base_url {
        Some(b) => {
            let u = Url::parse(b.get_ref())
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"));
            Some(u.ok_or_else(|| {
                err(
                    b.span(),
                    "json.base_url",
                    format!(
                        "invalid base URL {:?}; expected an absolute http(s) URL such as \"https://www.nato.int/\"",
                        b.get_ref()
                    ),
                )
            })?)
        }
        None => None,
    };
    Ok(JsonRules {
        items: path("items", &j.items)?,
        link: path("link", &j.link)?,
        title: opt("title", &j.title)?,
        date: opt("date", &j.date)?,
        summary: opt("summary", &j.summary)?,
        guid: opt("guid", &j.guid)?,
        base_url,
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::{Config, ConfigError};
    use crate::pipeline::sources::Source;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::from_str(text, Path::new("conf/test.toml"))
    }

    const FEED: &str = "[[feeds]]\nname = \"eeas\"\nurl = \"https://x.eu/press\"\n";

    #[test]
    fn html_and_json_sources_are_read_with_their_defaults() {
        let c = parse(&format!(
            "{FEED}kind = \"html\"\n[feeds.html]\nitem = \"div.card\"\nlink = \"a[href]\"\nnext_page = \"a[rel=next]\"\n\
             [[feeds]]\nname = \"nato\"\nurl = \"https://x.int/api\"\nkind = \"json\"\n[feeds.json]\nitems = \"data.items\"\nlink = \"url\"\nbase_url = \"https://x.int/\"\n\
             [[feeds]]\nname = \"plain\"\nurl = \"https://x.eu/rss\"\n"
        ))
        .unwrap();
        let Source::Html(h) = &c.feeds[0].source else {
            panic!("{:?}", c.feeds[0].source)
        };
        assert_eq!(
            (h.item.as_str(), h.max_pages),
            ("div.card", super::DEFAULT_MAX_PAGES)
        );
        let Source::Json(j) = &c.feeds[1].source else {
            panic!("{:?}", c.feeds[1].source)
        };
        assert_eq!(j.items.as_str(), "data.items");
        assert_eq!(c.feeds[2].source, Source::Rss);
    }

    #[test]
    fn a_bad_selector_names_line_key_and_fix() {
        let e = parse(&format!(
            "{FEED}kind = \"html\"\n[feeds.html]\nitem = \"div[\"\nlink = \"a\"\n"
        ))
        .unwrap_err();
        assert_eq!(
            (e.line, e.key.as_deref()),
            (Some(6), Some("feeds[0].html.item")),
            "{e}"
        );
        assert!(e.message.contains("invalid CSS selector \"div[\""), "{e}");
        assert!(e.to_string().starts_with("conf/test.toml:6:"), "{e}");
    }

    #[test]
    fn a_missing_or_misplaced_table_is_explained() {
        let e = parse(&format!("{FEED}kind = \"html\"\n")).unwrap_err();
        assert_eq!(
            (e.line, e.key.as_deref()),
            (Some(4), Some("feeds[0].html")),
            "{e}"
        );
        assert!(e.message.contains("needs a [feeds.html] table"), "{e}");

        let e = parse(&format!(
            "{FEED}[feeds.html]\nitem = \"li\"\nlink = \"a\"\n"
        ))
        .unwrap_err();
        assert_eq!(e.key.as_deref(), Some("feeds[0].html"), "{e}");
        assert!(e.message.contains("add kind = \"html\""), "{e}");

        let e = parse(&format!(
            "{FEED}kind = \"html\"\n[feeds.json]\nitems = \"a\"\nlink = \"b\"\n"
        ))
        .unwrap_err();
        assert_eq!(e.key.as_deref(), Some("feeds[0].json"), "{e}");

        let e = parse(&format!("{FEED}kind = \"xml\"\n")).unwrap_err();
        assert_eq!(e.line, Some(4), "{e}");
        assert!(e.message.contains("`rss`, `html`"), "{e}");
    }

    #[test]
    fn bad_json_paths_pages_and_base_urls_are_rejected() {
        let json = |extra: &str| {
            parse(&format!(
                "{FEED}kind = \"json\"\n[feeds.json]\nitems = \"data.items\"\nlink = \"url\"\n{extra}"
            ))
            .unwrap_err()
        };
        let e = json("title = \"a..b\"\n");
        assert_eq!(
            (e.line, e.key.as_deref()),
            (Some(8), Some("feeds[0].json.title")),
            "{e}"
        );
        let e = json("base_url = \"/relative\"\n");
        assert_eq!(e.key.as_deref(), Some("feeds[0].json.base_url"), "{e}");
        let e = json("unknown = \"x\"\n");
        assert!(e.message.contains("unknown field"), "{e}");

        let html = |extra: &str| {
            parse(&format!(
                "{FEED}kind = \"html\"\n[feeds.html]\nitem = \"li\"\nlink = \"a\"\n{extra}"
            ))
            .unwrap_err()
        };
        let e = html("next_page = \"a.next\"\nmax_pages = 0\n");
        assert_eq!(e.key.as_deref(), Some("feeds[0].html.max_pages"), "{e}");
        let e = html("max_pages = 4\n");
        assert!(e.message.contains("needs next_page"), "{e}");
    }
}
