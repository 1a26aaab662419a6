//! Plain data that travels through the pipeline: parsed feeds and items, feed health, stored items.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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
    /// The last batch of article pages fetched for the feed's items, and why those that gave
    /// no text gave none (`None`: no page fetched yet).
    pub article_report: Option<ArticleReport>,
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

    /// The article pages of the last batch that gave no text, if any did.
    pub fn article_trouble(&self) -> Option<&ArticleReport> {
        self.article_report
            .as_ref()
            .filter(|r| r.failed_pages() > 0)
    }

    /// What `veille feeds` and the web view's feeds page say about the feed: the last error,
    /// then [`FeedRow::notices`].
    pub fn notes(&self) -> Vec<String> {
        self.last_error
            .iter()
            .cloned()
            .chain(self.notices())
            .collect()
    }

    /// What the feed's reading noticed besides an error: the last document's recovery warning;
    /// the article pages of the last batch that gave no text, with their reasons and when they
    /// were fetched (a 304 since does not make that stale); guids that changed between polls.
    pub fn notices(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if let Some(w) = &self.last_warning {
            notes.push(format!("warning: {w}"));
        }
        if let Some(r) = self.article_trouble() {
            notes.push(format!(
                "{} of {} {} fetched {} gave no text: {}",
                r.failed_pages(),
                r.pages,
                if r.pages == 1 {
                    "article page"
                } else {
                    "article pages"
                },
                r.at.format("%Y-%m-%d %H:%M UTC"),
                r.reasons()
            ));
        } else if self.article_report.is_none() && self.article_failures > 0 {
            // Counted before reasons were recorded.
            notes.push(format!(
                "{} {} gave no text (before this version recorded why)",
                self.article_failures,
                if self.article_failures == 1 {
                    "article page"
                } else {
                    "article pages"
                }
            ));
        }
        if self.reissued > 0 {
            notes.push(format!(
                "guids change between polls: {} {} recognised by link or content in the last document read",
                self.reissued,
                if self.reissued == 1 { "item" } else { "items" }
            ));
        }
        notes
    }
}

/// One batch of article pages fetched for a feed's items (a refresh, or `veille refetch`):
/// how many, and those that gave no text counted by kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArticleReport {
    /// When the pages were fetched.
    pub at: DateTime<Utc>,
    /// Pages fetched.
    pub pages: usize,
    /// Pages that gave no text, by kind, the most frequent first.
    pub failed: Vec<FailureKind>,
}

/// Article pages that failed the same way, with one of them as an example.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureKind {
    /// `blocked`, `HTTP 404`, `timeout`, `too_short`, `consent_wall`, …
    pub kind: String,
    pub count: usize,
    /// The URL of one such page…
    pub example: String,
    /// …and its status in full (`fetch_failed: blocked: … (set [fetch] … to allow)`).
    pub status: String,
}

impl ArticleReport {
    /// Pages that gave no text.
    pub fn failed_pages(&self) -> usize {
        self.failed.iter().map(|k| k.count).sum()
    }

    /// `blocked ×2 (e.g. http://…: fetch_failed: blocked: …), too_short ×1 (e.g. …)`.
    pub fn reasons(&self) -> String {
        self.failed
            .iter()
            .map(|k| format!("{} ×{} (e.g. {}: {})", k.kind, k.count, k.example, k.status))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Whether fetching the pages again may help (they failed to download, not to read).
    pub fn retryable(&self) -> bool {
        self.failed
            .iter()
            .any(|k| k.status.starts_with("fetch_failed") || k.status == "extract_failed")
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
