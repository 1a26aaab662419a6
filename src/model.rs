//! Plain data that travels through the pipeline: parsed feeds and items, feed health, stored items.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// A feed document after parsing, before storage.
#[derive(Debug, Clone, Default)]
pub struct ParsedFeed {
    pub title: Option<String>,
    /// Language declared by the feed (`<language>`, `xml:lang`), lower-cased.
    pub language: Option<String>,
    /// RSS `<ttl>`: how long the feed may be cached.
    pub ttl: Option<std::time::Duration>,
    pub items: Vec<ParsedItem>,
    /// What was wrong with the document but recovered (malformed XML repaired), for the
    /// feed's health; empty for a clean document.
    pub warnings: Vec<String>,
}

/// One entry of a feed, normalised.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedItem {
    /// The feed's own id for the entry (guid, atom:id), or one derived from link and title.
    pub guid: String,
    /// Absolute link to the article, resolved against the feed URL.
    pub url: Option<String>,
    /// Canonical form of `url` used to find the same article across feeds.
    pub canonical_url: Option<String>,
    /// Title as plain text. Until [`finish`](crate::pipeline::clean::finish) runs it is only a
    /// fallback (the link, for a listing item without a title).
    pub title: String,
    /// Title as the document gave it (may contain markup or entities); `finish` turns it into
    /// `title`.
    pub title_html: Option<String>,
    /// Summary as the feed gave it (may contain HTML).
    pub summary_html: Option<String>,
    /// Full content as the feed gave it (may contain HTML).
    pub content_html: Option<String>,
    /// Clean text of the best of content and summary (empty until `finish` runs).
    pub text: String,
    pub author: Option<String>,
    pub published: Option<DateTime<Utc>>,
    /// Language declared for this entry, if any.
    pub language: Option<String>,
}

/// A feed's row with its health, as `veille feeds` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct FeedRow {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub title: Option<String>,
    pub enabled: bool,
    pub last_status: Option<i64>,
    pub error_count: i64,
    pub last_error: Option<String>,
    pub last_fetch_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub next_check_at: Option<DateTime<Utc>>,
    pub item_count: i64,
    /// Article pages of the last refresh that gave no usable text.
    pub article_failures: i64,
    /// Items of the last refresh recognised by link or content under a guid never seen before:
    /// the feed changes its guids between polls.
    pub reissued: i64,
    /// What was wrong with the last document read but recovered (malformed XML repaired).
    pub last_warning: Option<String>,
}

impl FeedRow {
    /// `disabled`, `new` (never fetched), `failing` (at least `failing_after` errors in a row),
    /// `erroring` or `ok`.
    pub fn state(&self, failing_after: i64) -> &'static str {
        if !self.enabled {
            "disabled"
        } else if self.last_fetch_at.is_none() {
            "new"
        } else if self.error_count >= failing_after {
            "failing"
        } else if self.error_count > 0 {
            "erroring"
        } else {
            "ok"
        }
    }
}

/// A stored item with what `veille items` shows.
#[derive(Debug, Clone, Serialize)]
pub struct ItemRow {
    pub id: i64,
    pub feed: String,
    pub url: Option<String>,
    pub title: String,
    pub published: Option<DateTime<Utc>>,
    pub fetched_at: DateTime<Utc>,
    pub language: Option<String>,
    pub topics: Vec<String>,
}
