//! Sources without a usable feed: HTML listing pages read with CSS selectors and JSON endpoints
//! read with dotted paths, turned into the same [`ParsedFeed`] the RSS parser returns so their
//! items go through the same pipeline.
//!
//! Parsing is pure ([`parse_page`]: bytes, content type, URL, rules → one page of items and the
//! next page's URL); `pipeline::listing` fetches the next pages. [`parse_page_raw`] leaves the
//! items' markup to `clean::finish`, for the refresh to do only on new and changed items.

pub mod config;
mod html;
mod json;

use std::collections::HashSet;

use url::Url;

use super::clean;
use super::parse::{canonical_url, parse_feed_raw};
use crate::error::ParseError;
use crate::model::{ParsedFeed, ParsedItem};

pub use json::JsonPath;

/// Where a feed's items come from and how to read them.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Source {
    /// An RSS, Atom or JSON Feed document.
    #[default]
    Rss,
    /// An HTML listing page read with CSS selectors.
    Html(HtmlRules),
    /// A JSON endpoint read with dotted paths.
    Json(Box<JsonRules>),
}

impl Source {
    /// `rss`, `html` or `json`, as written in the configuration.
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Rss => "rss",
            Source::Html(_) => "html",
            Source::Json(_) => "json",
        }
    }

    /// How many pages a refresh may read (the first page included).
    pub fn max_pages(&self) -> usize {
        match self {
            Source::Html(r) if r.next_page.is_some() => r.max_pages as usize,
            _ => 1,
        }
    }
}

/// CSS selectors of an HTML listing page (`[feeds.html]`).
#[derive(Debug, Clone, PartialEq)]
pub struct HtmlRules {
    /// One element per item.
    pub item: String,
    /// Within an item: the element whose `href` is the article link.
    pub link: String,
    /// Within an item: the title (default: the link's text).
    pub title: Option<String>,
    /// Within an item: the date, from its `datetime` or `content` attribute or its text.
    pub date: Option<String>,
    /// Within an item: the summary.
    pub summary: Option<String>,
    /// On the page: the element whose `href` is the next page.
    pub next_page: Option<String>,
    /// Pages read per refresh, the first included (only with `next_page`).
    pub max_pages: u32,
}

/// The default `max_pages` when `next_page` is given.
pub const DEFAULT_MAX_PAGES: u32 = 3;
/// The most pages one refresh may read: listings are for new items, not archives.
pub const MAX_PAGES_LIMIT: u32 = 20;

/// Dotted paths into a JSON endpoint's response (`[feeds.json]`).
#[derive(Debug, Clone, PartialEq)]
pub struct JsonRules {
    /// The array of items, from the top of the document (`data.items`, `results.0.hits`).
    pub items: JsonPath,
    /// Within an item: the article link (relative links resolve against `base_url`).
    pub link: JsonPath,
    pub title: Option<JsonPath>,
    pub date: Option<JsonPath>,
    pub summary: Option<JsonPath>,
    /// Within an item: a stable id (default: the canonical link).
    pub guid: Option<JsonPath>,
    /// Base of relative links (default: the endpoint's URL).
    pub base_url: Option<Url>,
}

/// A rule that cannot work, found when the configuration (or a preview's flags) is read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct RuleError {
    /// The key concerned (`item`, `link`, `items`, …).
    pub field: &'static str,
    pub message: String,
}

impl HtmlRules {
    /// Checks that every selector compiles.
    pub fn validate(&self) -> Result<(), RuleError> {
        html::Compiled::new(self).map(|_| ())
    }
}

/// Why a source page gave no items. Shown in the feed's health, so it says what to change.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    #[error("invalid feed: {0}")]
    Feed(#[from] ParseError),
    #[error("html source: selector {selector:?} matched nothing on {url}")]
    NoItems { selector: String, url: String },
    #[error(
        "html source: link selector {selector:?} found no link with an href in any of the {items} items on {url}"
    )]
    NoLinks {
        selector: String,
        items: usize,
        url: String,
    },
    #[error("html source: invalid selector: {0}")]
    Rule(RuleError),
    #[error("json source: not JSON ({reason}) on {url}")]
    NotJson { reason: String, url: String },
    #[error("json source: path {path:?} does not resolve on {url}: {reason}")]
    Path {
        path: String,
        reason: String,
        url: String,
    },
    #[error("json source: path {path:?} gave 0 items on {url}")]
    Empty { path: String, url: String },
    #[error("json source: link path {path:?} gave no link in any of the {items} items on {url}")]
    NoJsonLinks {
        path: String,
        items: usize,
        url: String,
    },
}

/// One fetched page of a source: its items and, for listings, the next page to read.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub feed: ParsedFeed,
    /// Absolute URL of the next page, when the page has one.
    pub next: Option<String>,
}

/// Parses one page fetched from `url` as `source` says, its items finished.
pub fn parse_page(
    body: &[u8],
    content_type: Option<&str>,
    url: &str,
    source: &Source,
) -> Result<Page, SourceError> {
    let mut page = parse_page_raw(body, content_type, url, source)?;
    page.feed.items.iter_mut().for_each(clean::finish);
    Ok(page)
}

/// Parses one page fetched from `url` as `source` says; titles and texts are left to
/// [`clean::finish`].
pub fn parse_page_raw(
    body: &[u8],
    content_type: Option<&str>,
    url: &str,
    source: &Source,
) -> Result<Page, SourceError> {
    let mut page = match source {
        Source::Rss => Page {
            feed: parse_feed_raw(body, content_type, url)?,
            next: None,
        },
        Source::Html(rules) => html::parse(body, content_type, url, rules)?,
        Source::Json(rules) => json::parse(body, url, rules)?,
    };
    if !matches!(source, Source::Rss) {
        dedupe(&mut page.feed.items, &mut HashSet::new());
    }
    Ok(page)
}

/// Drops items whose guid was seen already (a listing often links one article twice).
pub(crate) fn dedupe(items: &mut Vec<ParsedItem>, seen: &mut HashSet<String>) {
    items.retain(|it| seen.insert(it.guid.clone()));
}

/// Resolves `href` against `base`; only http(s) links are kept.
fn resolve(base: Option<&Url>, href: &str) -> Option<Url> {
    let href = href.trim();
    if href.is_empty() || href.starts_with('#') {
        return None;
    }
    let url = match base {
        Some(b) => b.join(href).ok()?,
        None => Url::parse(href).ok()?,
    };
    matches!(url.scheme(), "http" | "https").then_some(url)
}

/// The fields read for one item, before they become a [`ParsedItem`].
struct Found {
    link: Url,
    title: Option<String>,
    published: Option<chrono::DateTime<chrono::Utc>>,
    summary_html: Option<String>,
    guid: Option<String>,
}

impl Found {
    fn into_item(self) -> ParsedItem {
        let url = self.link.to_string();
        let canonical = canonical_url(&url);
        let mut item = ParsedItem {
            guid: self
                .guid
                .or_else(|| canonical.clone())
                .unwrap_or_else(|| url.clone()),
            url: Some(url.clone()),
            canonical_url: canonical,
            // The link stands in for a title that is missing or gives no text.
            title: url,
            title_html: self.title.filter(|t| !t.trim().is_empty()),
            summary_html: self.summary_html.filter(|s| !s.trim().is_empty()),
            content_html: None,
            text: String::new(),
            author: None,
            published: self.published,
            language: None,
        };
        clean::bound_raw(&mut item);
        item
    }
}
