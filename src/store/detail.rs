//! One stored item with everything known about it — its texts, how its language was decided,
//! its topic matches and the digests that carried it — for `veille items --show` (and the
//! analyst web view's item page, which asks the same questions).

use chrono::{DateTime, Utc};
use rusqlite::OptionalExtension;

use super::{Store, StoredMatch};
use crate::error::StoreError;

/// Everything stored about one item.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemDetail {
    pub id: i64,
    pub feed: String,
    /// Every feed it was seen in.
    pub feeds: Vec<String>,
    pub feed_language: Option<String>,
    pub url: Option<String>,
    pub canonical_url: Option<String>,
    pub title: String,
    pub text: String,
    pub article_text: Option<String>,
    pub article_status: Option<String>,
    pub author: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub fetched_at: DateTime<Utc>,
    pub language: Option<String>,
    pub language_source: Option<String>,
    pub language_confidence: Option<f64>,
    pub matches: Vec<StoredMatch>,
}

impl ItemDetail {
    /// The text classified and shown: the article's when extracted, else the feed's.
    pub fn body(&self) -> &str {
        self.article_text.as_deref().unwrap_or(&self.text)
    }
}

/// A digest that carried an item.
#[derive(Debug, Clone, PartialEq)]
pub struct DigestRef {
    pub id: i64,
    pub watchlist: String,
    pub subject: String,
    pub status: String,
    pub composed_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl Store {
    /// One item with everything stored about it, if it exists.
    pub fn item_detail(&self, id: i64) -> Result<Option<ItemDetail>, StoreError> {
        let found = self
            .conn
            .query_row(
                "SELECT i.id, f.name, f.language, i.url, i.canonical_url, i.title, i.text, i.article_text,
                        i.article_status, i.author, i.published_at, i.fetched_at, i.language,
                        i.language_source, i.language_confidence,
                        (SELECT group_concat(g.name, char(10)) FROM item_sources s JOIN feeds g ON g.id = s.feed_id
                         WHERE s.item_id = i.id)
                 FROM items i JOIN feeds f ON f.id = i.feed_id WHERE i.id = ?1",
                [id],
                |r| {
                    Ok(ItemDetail {
                        id: r.get(0)?,
                        feed: r.get(1)?,
                        feed_language: r.get(2)?,
                        url: r.get(3)?,
                        canonical_url: r.get(4)?,
                        title: r.get(5)?,
                        text: r.get(6)?,
                        article_text: r.get(7)?,
                        article_status: r.get(8)?,
                        author: r.get(9)?,
                        published: r.get(10)?,
                        fetched_at: r.get(11)?,
                        language: r.get(12)?,
                        language_source: r.get(13)?,
                        language_confidence: r.get(14)?,
                        feeds: r
                            .get::<_, Option<String>>(15)?
                            .map(|f| f.split('\n').map(str::to_string).collect())
                            .unwrap_or_default(),
                        matches: Vec::new(),
                    })
                },
            )
            .optional()?;
        let Some(mut item) = found else {
            return Ok(None);
        };
        item.matches = self.matches(id)?;
        Ok(Some(item))
    }

    /// The digests that carried an item, newest first.
    pub fn item_digests(&self, item_id: i64) -> Result<Vec<DigestRef>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT d.id, d.watchlist, d.subject, d.status, d.composed_at, d.sent_at
             FROM digest_items di JOIN digests d ON d.id = di.digest_id
             WHERE di.item_id = ?1 ORDER BY d.composed_at DESC, d.id DESC",
        )?;
        let rows = stmt.query_map([item_id], |r| {
            Ok(DigestRef {
                id: r.get(0)?,
                watchlist: r.get(1)?,
                subject: r.get(2)?,
                status: r.get(3)?,
                composed_at: r.get(4)?,
                sent_at: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
