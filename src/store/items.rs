//! Item rows: dedupe (by guid per feed, by canonical URL across feeds), insert, list, matches.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, params};
use sha2::{Digest, Sha256};

use super::Store;
use crate::error::StoreError;
use crate::model::{ItemRow, ParsedItem};

/// An item ready to store: what the feed said plus what the pipeline learned.
#[derive(Debug, Clone, Default)]
pub struct NewItem {
    pub parsed: ParsedItem,
    pub language: Option<String>,
    /// How `language` was decided (`text`, `item`, `page`, `url`, `configured`, `feed`) and how
    /// sure (0–1).
    pub language_source: Option<(String, f64)>,
    pub matches: Vec<StoredMatch>,
    /// The article page's text and the extraction status, when the page was fetched.
    pub article: Option<Article>,
    /// The links of the feed's HTML for the item, one per line: kept instead of the HTML itself,
    /// which is not stored (the text is derived from it).
    pub links: Option<String>,
}

/// What article extraction gave for an item.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Article {
    /// Extracted text; `None` when extraction failed (the feed text stays the item's text).
    pub text: Option<String>,
    /// `ok`, `too_short`, `consent_wall`, `fetch_failed: …`, …
    pub status: String,
}

/// A stored item's text, as classification needs it.
#[derive(Debug, Clone)]
pub struct StoredText {
    pub id: i64,
    pub title: String,
    /// The article text when extracted, else the feed's text.
    pub body: String,
    pub url: Option<String>,
    /// Language declared by the item's feed (config or feed document).
    pub feed_language: Option<String>,
    pub language: Option<String>,
    /// Topics currently stored, sorted.
    pub topics: Vec<String>,
}

/// A topic match as stored: evidence kept as JSON text.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredMatch {
    pub topic: String,
    pub score: f64,
    pub evidence_json: String,
}

/// Where an incoming item stands against what is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// Never seen: insert.
    New,
    /// Seen in this feed with the same content.
    Unchanged(i64),
    /// Seen in this feed, content changed since.
    Changed(i64),
    /// The same article (canonical URL) already stored, from another feed or under another guid.
    SameUrl(i64),
    /// Stored once and pruned by retention since (a tombstone remains): not new, nothing to do.
    Pruned,
}

/// What a batch write did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreReport {
    pub new: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub same_url: usize,
    /// Ids of inserted items.
    pub new_ids: Vec<i64>,
}

/// Filters for [`Store::items`].
#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    pub feed: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub topic: Option<String>,
    pub limit: Option<usize>,
}

/// Hash of what a reader sees of an item: a change means the item was edited.
pub fn content_hash(item: &ParsedItem) -> String {
    let mut h = Sha256::new();
    for part in [
        item.title.as_str(),
        item.url.as_deref().unwrap_or(""),
        item.text.as_str(),
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    hex::encode(&h.finalize()[..16])
}

fn seen(
    tx: &Transaction<'_>,
    feed_id: i64,
    item: &ParsedItem,
    hash: &str,
) -> Result<Seen, StoreError> {
    let by_guid: Option<(i64, String)> = tx
        .query_row(
            "SELECT i.id, i.content_hash FROM item_sources s JOIN items i ON i.id = s.item_id
             WHERE s.feed_id = ?1 AND s.guid = ?2",
            params![feed_id, item.guid],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((id, old)) = by_guid {
        return Ok(if old == hash {
            Seen::Unchanged(id)
        } else {
            Seen::Changed(id)
        });
    }
    if let Some(url) = &item.canonical_url {
        let by_url: Option<i64> = tx
            .query_row(
                "SELECT id FROM items WHERE canonical_url = ?1",
                [url],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = by_url {
            return Ok(Seen::SameUrl(id));
        }
    }
    if super::retention::tombstoned(tx, feed_id, &item.guid, item.canonical_url.as_deref())? {
        return Ok(Seen::Pruned);
    }
    Ok(Seen::New)
}

impl Store {
    /// Which of `items` need work (new or changed), without writing anything.
    pub fn triage(&mut self, feed_id: i64, items: &[ParsedItem]) -> Result<Vec<Seen>, StoreError> {
        let tx = self.conn.transaction()?;
        let out = items
            .iter()
            .map(|it| seen(&tx, feed_id, it, &content_hash(it)))
            .collect::<Result<Vec<_>, _>>()?;
        tx.rollback()?;
        Ok(out)
    }

    /// Writes a batch of items of one feed in one transaction: all or nothing.
    pub fn store_items(
        &mut self,
        feed_id: i64,
        items: &[NewItem],
        now: DateTime<Utc>,
    ) -> Result<StoreReport, StoreError> {
        // Immediate: the write lock is taken (waiting for it if need be) before the first read,
        // so another writer (retention, a digest) committing meanwhile cannot void this one.
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut report = StoreReport::default();
        for new in items {
            let it = &new.parsed;
            let hash = content_hash(it);
            match seen(&tx, feed_id, it, &hash)? {
                Seen::Unchanged(_) => report.unchanged += 1,
                Seen::Pruned => {
                    super::retention::touch(
                        &tx,
                        feed_id,
                        &it.guid,
                        it.canonical_url.as_deref(),
                        now,
                    )?;
                    report.unchanged += 1;
                }
                Seen::SameUrl(id) => {
                    tx.execute(
                        "INSERT OR IGNORE INTO item_sources (feed_id, guid, item_id, first_seen_at) VALUES (?1, ?2, ?3, ?4)",
                        params![feed_id, it.guid, id, now],
                    )?;
                    report.same_url += 1;
                }
                Seen::Changed(id) => {
                    tx.execute(
                        "UPDATE items SET url = ?2, title = ?3, links = ?4, summary_html = NULL, content_html = ?5, text = ?6,
                           author = ?7, published_at = COALESCE(?8, published_at), content_hash = ?9,
                           language = ?10, article_text = COALESCE(?11, article_text),
                           article_status = COALESCE(?12, article_status),
                           language_source = ?13, language_confidence = ?14
                         WHERE id = ?1",
                        params![
                            id,
                            it.url,
                            it.title,
                            new.links,
                            None::<String>,
                            super::packed::pack(&it.text),
                            it.author,
                            it.published,
                            hash,
                            new.language,
                            super::packed::pack_opt(new.article.as_ref().and_then(|a| a.text.as_deref())),
                            new.article.as_ref().map(|a| a.status.as_str()),
                            new.language_source.as_ref().map(|l| l.0.as_str()),
                            new.language_source.as_ref().map(|l| l.1)
                        ],
                    )?;
                    write_matches(&tx, id, &new.matches, now)?;
                    report.updated += 1;
                }
                Seen::New => {
                    tx.execute(
                        "INSERT INTO items (feed_id, guid, url, canonical_url, title, links, content_html,
                           text, author, published_at, fetched_at, content_hash, language,
                           article_text, article_status, language_source, language_confidence)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
                        params![
                            feed_id,
                            it.guid,
                            it.url,
                            it.canonical_url,
                            it.title,
                            new.links,
                            None::<String>,
                            super::packed::pack(&it.text),
                            it.author,
                            it.published,
                            now,
                            hash,
                            new.language,
                            super::packed::pack_opt(new.article.as_ref().and_then(|a| a.text.as_deref())),
                            new.article.as_ref().map(|a| a.status.as_str()),
                            new.language_source.as_ref().map(|l| l.0.as_str()),
                            new.language_source.as_ref().map(|l| l.1)
                        ],
                    )?;
                    let id = tx.last_insert_rowid();
                    tx.execute(
                        "INSERT INTO item_sources (feed_id, guid, item_id, first_seen_at) VALUES (?1, ?2, ?3, ?4)",
                        params![feed_id, it.guid, id, now],
                    )?;
                    write_matches(&tx, id, &new.matches, now)?;
                    report.new += 1;
                    report.new_ids.push(id);
                }
            }
        }
        tx.commit()?;
        Ok(report)
    }

    /// Replaces the matches of one item (after reclassification).
    pub fn replace_matches(
        &mut self,
        item_id: i64,
        matches: &[StoredMatch],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        write_matches(&tx, item_id, matches, now)?;
        tx.commit()?;
        Ok(())
    }

    /// Stored items, newest first, with their topics.
    pub fn items(&self, filter: &ItemFilter) -> Result<Vec<ItemRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT i.id, f.name, i.url, i.title, i.published_at, i.fetched_at, i.language,
                    (SELECT group_concat(m.topic, ',') FROM (SELECT topic FROM matches WHERE item_id = i.id ORDER BY topic) m)
             FROM items i JOIN feeds f ON f.id = i.feed_id
             WHERE (?1 IS NULL OR f.name = ?1
                    OR EXISTS (SELECT 1 FROM item_sources s JOIN feeds g ON g.id = s.feed_id
                               WHERE s.item_id = i.id AND g.name = ?1))
               AND (?2 IS NULL OR COALESCE(i.published_at, i.fetched_at) >= ?2)
               AND (?3 IS NULL OR EXISTS (SELECT 1 FROM matches m WHERE m.item_id = i.id AND m.topic = ?3))
             ORDER BY COALESCE(i.published_at, i.fetched_at) DESC, i.id DESC
             LIMIT ?4",
        )?;
        let limit = filter.limit.map_or(-1, |l| l as i64);
        let rows = stmt.query_map(
            params![filter.feed, filter.since, filter.topic, limit],
            |r| {
                let topics: Option<String> = r.get(7)?;
                Ok(ItemRow {
                    id: r.get(0)?,
                    feed: r.get(1)?,
                    url: r.get(2)?,
                    title: r.get(3)?,
                    published: r.get(4)?,
                    fetched_at: r.get(5)?,
                    language: r.get(6)?,
                    topics: split_topics(topics),
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Stored items' texts with id greater than `after`, by id, at most `limit`: pages through
    /// the whole table for reclassification.
    pub fn texts(&self, after: i64, limit: usize) -> Result<Vec<StoredText>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT i.id, i.title, veille_text(COALESCE(i.article_text, i.text)), i.url, f.language, i.language,
                    (SELECT group_concat(m.topic, ',') FROM (SELECT topic FROM matches WHERE item_id = i.id ORDER BY topic) m)
             FROM items i JOIN feeds f ON f.id = i.feed_id
             WHERE i.id > ?1 ORDER BY i.id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![after, limit as i64], |r| {
            let topics: Option<String> = r.get(6)?;
            Ok(StoredText {
                id: r.get(0)?,
                title: r.get(1)?,
                body: r.get(2)?,
                url: r.get(3)?,
                feed_language: r.get(4)?,
                language: r.get(5)?,
                topics: split_topics(topics),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Stores a new language and topic matches for an item (after reclassification).
    pub fn set_classification(
        &mut self,
        item_id: i64,
        language: Option<&str>,
        matches: &[StoredMatch],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE items SET language = ?2 WHERE id = ?1",
            params![item_id, language],
        )?;
        write_matches(&tx, item_id, matches, now)?;
        tx.commit()?;
        Ok(())
    }

    /// The stored matches of one item, by topic.
    pub fn matches(&self, item_id: i64) -> Result<Vec<StoredMatch>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT topic, score, evidence FROM matches WHERE item_id = ?1 ORDER BY topic",
        )?;
        let rows = stmt.query_map([item_id], |r| {
            Ok(StoredMatch {
                topic: r.get(0)?,
                score: r.get(1)?,
                evidence_json: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many items are stored.
    pub fn item_count(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM items", [], |r| r.get(0))?)
    }
}

/// `group_concat` of topics → the list (none when NULL).
fn split_topics(joined: Option<String>) -> Vec<String> {
    joined
        .map(|t| t.split(',').map(str::to_string).collect())
        .unwrap_or_default()
}

fn write_matches(
    tx: &Transaction<'_>,
    item_id: i64,
    matches: &[StoredMatch],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.execute("DELETE FROM matches WHERE item_id = ?1", [item_id])?;
    for m in matches {
        tx.execute(
            "INSERT INTO matches (item_id, topic, score, evidence, classified_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![item_id, m.topic, m.score, m.evidence_json, now],
        )?;
    }
    Ok(())
}
