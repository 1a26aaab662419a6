//! Item rows: dedupe (by guid per feed; by link or content within a feed whose guids change;
//! by canonical URL across feeds), insert, list, matches.

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
    /// The same article (canonical URL) already stored from another feed.
    SameUrl(i64),
    /// An item this feed gave before (same link, or same content) under a guid never seen: the
    /// feed changed its guid. Not a new item; `changed` when its content differs (it is then
    /// updated in place).
    Reissued { id: i64, changed: bool },
    /// Stored once and pruned by retention since (a tombstone remains): not new, nothing to do.
    Pruned,
}

impl Seen {
    /// Whether the item needs its article, language and topics worked out (new or edited).
    pub fn is_fresh(&self) -> bool {
        matches!(
            self,
            Seen::New | Seen::Changed(_) | Seen::Reissued { changed: true, .. }
        )
    }
}

/// What a batch write did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreReport {
    pub new: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub same_url: usize,
    /// Items recognised under a new guid (see [`Seen::Reissued`]).
    pub reissued: usize,
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

/// Hash of an item as its document gave it, before any markup is turned into text (the title's
/// markup, the link, the summary's and the content's markup; the text only for an item given
/// without markup). It does not change when the item is finished.
pub fn source_hash(item: &ParsedItem) -> String {
    let mut h = Sha256::new();
    let markup = item.summary_html.is_some() || item.content_html.is_some();
    for part in [
        item.title_html.as_deref().unwrap_or(&item.title),
        item.url.as_deref().unwrap_or(""),
        item.summary_html.as_deref().unwrap_or(""),
        item.content_html.as_deref().unwrap_or(""),
        if markup { "" } else { item.text.as_str() },
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
        let by_url: Option<(i64, String, bool)> = tx
            .query_row(
                "SELECT i.id, i.content_hash,
                        EXISTS (SELECT 1 FROM item_sources s WHERE s.item_id = i.id AND s.feed_id = ?2)
                 FROM items i WHERE i.canonical_url = ?1",
                params![url, feed_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        match by_url {
            Some((id, old, true)) => {
                return Ok(Seen::Reissued {
                    id,
                    changed: old != hash,
                });
            }
            Some((id, _, false)) => return Ok(Seen::SameUrl(id)),
            None => {}
        }
    }
    let by_content: Option<i64> = tx
        .query_row(
            "SELECT i.id FROM items i
             WHERE i.content_hash = ?1
               AND EXISTS (SELECT 1 FROM item_sources s WHERE s.item_id = i.id AND s.feed_id = ?2)
             LIMIT 1",
            params![hash, feed_id],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = by_content {
        return Ok(Seen::Reissued { id, changed: false });
    }
    if super::retention::tombstoned(tx, feed_id, &item.guid, item.canonical_url.as_deref())? {
        return Ok(Seen::Pruned);
    }
    Ok(Seen::New)
}

impl Store {
    /// Recognises, before their markup is turned into text, the items this feed gave before
    /// exactly as now: `Unchanged` (same guid, same source) or `Reissued` (a guid never seen,
    /// the source of an item this feed gave). `None`: finish the item, then [`Store::triage`].
    pub fn recognise(
        &mut self,
        feed_id: i64,
        items: &[ParsedItem],
    ) -> Result<Vec<Option<Seen>>, StoreError> {
        let mut by_guid = self.conn.prepare_cached(
            "SELECT item_id, source_hash FROM item_sources WHERE feed_id = ?1 AND guid = ?2",
        )?;
        let mut by_source = self.conn.prepare_cached(
            "SELECT item_id FROM item_sources WHERE feed_id = ?1 AND source_hash = ?2 LIMIT 1",
        )?;
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let source = source_hash(item);
            let known: Option<(i64, Option<String>)> = by_guid
                .query_row(params![feed_id, item.guid], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            out.push(match known {
                Some((id, stored)) if stored.as_deref() == Some(source.as_str()) => {
                    Some(Seen::Unchanged(id))
                }
                Some(_) => None,
                None => by_source
                    .query_row(params![feed_id, source], |r| r.get(0))
                    .optional()?
                    .map(|id| Seen::Reissued { id, changed: false }),
            });
        }
        Ok(out)
    }

    /// Where each of `items` stands (new, changed, …), without writing anything; `known` are
    /// the answers of [`Store::recognise`], kept as they are (those items need not be finished).
    pub fn triage(
        &mut self,
        feed_id: i64,
        items: &[ParsedItem],
        known: &[Option<Seen>],
    ) -> Result<Vec<Seen>, StoreError> {
        let tx = self.conn.transaction()?;
        let out = items
            .iter()
            .enumerate()
            .map(|(i, it)| match known.get(i).copied().flatten() {
                Some(seen) => Ok(seen),
                None => seen(&tx, feed_id, it, &content_hash(it)),
            })
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
        let tx = self.write()?;
        let mut report = StoreReport::default();
        for new in items {
            let it = &new.parsed;
            let hash = content_hash(it);
            let source = source_hash(it);
            match seen(&tx, feed_id, it, &hash)? {
                Seen::Unchanged(_) => {
                    // Recognised by its text: remember its source, to recognise it sooner.
                    tx.execute(
                        "UPDATE item_sources SET source_hash = ?3
                         WHERE feed_id = ?1 AND guid = ?2 AND source_hash IS NOT ?3",
                        params![feed_id, it.guid, source],
                    )?;
                    report.unchanged += 1;
                }
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
                        "INSERT OR IGNORE INTO item_sources (feed_id, guid, item_id, first_seen_at, source_hash)
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![feed_id, it.guid, id, now, source],
                    )?;
                    report.same_url += 1;
                }
                Seen::Changed(id) => {
                    update_item(&tx, id, new, &hash, now)?;
                    tx.execute(
                        "UPDATE item_sources SET source_hash = ?3 WHERE feed_id = ?1 AND guid = ?2",
                        params![feed_id, it.guid, source],
                    )?;
                    report.updated += 1;
                }
                Seen::Reissued { id, changed } => {
                    // Not a new item, and no new source row either: a feed that changes every
                    // guid on every poll must not grow the table by its whole content each time.
                    if changed {
                        update_item(&tx, id, new, &hash, now)?;
                        report.updated += 1;
                    }
                    report.reissued += 1;
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
                        "INSERT INTO item_sources (feed_id, guid, item_id, first_seen_at, source_hash)
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![feed_id, it.guid, id, now, source],
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
        let tx = self.write()?;
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
        let tx = self.write()?;
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

/// Writes an edited item's new content, language, article and matches over the stored row.
fn update_item(
    tx: &Transaction<'_>,
    id: i64,
    new: &NewItem,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let it = &new.parsed;
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
    write_matches(tx, id, &new.matches, now)
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
