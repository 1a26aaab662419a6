//! Item rows: dedupe (by guid per feed; by link or content within a feed whose guids change;
//! by canonical URL across feeds), insert, list, matches.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use rusqlite::types::ToSqlOutput;
use rusqlite::{Connection, OptionalExtension, Params, Transaction, params};
use sha2::{Digest, Sha256};

use super::Store;
use crate::error::StoreError;
use crate::model::{ItemRow, ParsedItem};
use crate::pipeline::classify::fold::fold_str;

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
    /// The item's hashes when the pipeline has computed them already; computed on storing when
    /// `None`.
    pub hashes: Option<Hashes>,
    /// Its stored texts computed ahead by [`NewItem::prepare`]; computed on storing when `None`.
    pub prepared: Option<Prepared>,
}

/// An item's packed texts and the folded title and body of its full-text row, as
/// [`Store::store_items`] would compute them: computed by [`NewItem::prepare`] before the write
/// lock is taken (on another thread), they shorten the time a batch holds it. Used only while
/// the item's title and texts keep the lengths they were computed from, else computed again.
#[derive(Debug, Clone, Default)]
pub struct Prepared {
    lens: (usize, usize, Option<usize>),
    text: Option<Vec<u8>>,
    article: Option<Vec<u8>>,
    title: String,
    body: String,
}

impl NewItem {
    /// Computes the item's stored texts now ([`Prepared`]): the work of storing it that needs
    /// no database, done before the write lock.
    pub fn prepare(&mut self) {
        let article = self.article_text();
        self.prepared = Some(Prepared {
            lens: self.lens(),
            text: super::packed::deflated(&self.parsed.text),
            article: article.and_then(super::packed::deflated),
            title: fold_str(&self.parsed.title),
            // As the index reads it back: `COALESCE(article_text, text)`.
            body: fold_str(article.unwrap_or(&self.parsed.text)),
        });
    }

    /// [`NewItem::prepare`]d.
    pub fn prepared(mut self) -> Self {
        self.prepare();
        self
    }

    fn article_text(&self) -> Option<&str> {
        self.article.as_ref().and_then(|a| a.text.as_deref())
    }

    fn lens(&self) -> (usize, usize, Option<usize>) {
        (
            self.parsed.title.len(),
            self.parsed.text.len(),
            self.article_text().map(str::len),
        )
    }

    /// What [`NewItem::prepare`] computed, while it still fits the item.
    fn ready(&self) -> Option<&Prepared> {
        self.prepared.as_ref().filter(|p| p.lens == self.lens())
    }

    /// The stored form of the item's text.
    fn packed_text(&self) -> ToSqlOutput<'_> {
        match self.ready() {
            Some(p) => super::packed::pack_with(&self.parsed.text, p.text.as_deref()),
            None => super::packed::pack(&self.parsed.text),
        }
    }

    /// The stored form of the article's text (NULL without one).
    fn packed_article(&self) -> ToSqlOutput<'_> {
        match (self.article_text(), self.ready()) {
            (Some(text), Some(p)) => super::packed::pack_with(text, p.article.as_deref()),
            (text, _) => super::packed::pack_opt(text),
        }
    }
}

/// An item's [`content_hash`] and [`source_hash`], computed once per item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hashes {
    pub content: String,
    pub source: String,
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

/// A stored item whose article page gave no text, to fetch again (`veille refetch`).
#[derive(Debug, Clone)]
pub struct RetryItem {
    pub id: i64,
    /// The feed that brought it first.
    pub feed: String,
    pub url: String,
    pub title: String,
    /// The feed's text (summary), the item's text until an article is extracted.
    pub text: String,
    /// The language configured for its feed.
    pub feed_language: Option<String>,
    /// Why the last attempt gave no text.
    pub status: String,
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
    let by_guid: Option<(i64, String)> = query_row(
        tx,
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
        let by_url: Option<(i64, String, bool)> = query_row(
            tx,
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
    let by_content: Option<i64> = query_row(
        tx,
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
        let sources: Vec<String> = items.iter().map(source_hash).collect();
        self.recognise_hashed(feed_id, items, &sources)
    }

    /// [`Store::recognise`] with each item's [`source_hash`] computed already.
    pub fn recognise_hashed(
        &mut self,
        feed_id: i64,
        items: &[ParsedItem],
        sources: &[String],
    ) -> Result<Vec<Option<Seen>>, StoreError> {
        let mut by_guid = self.conn.prepare_cached(
            "SELECT item_id, source_hash FROM item_sources WHERE feed_id = ?1 AND guid = ?2",
        )?;
        let mut by_source = self.conn.prepare_cached(
            "SELECT item_id FROM item_sources WHERE feed_id = ?1 AND source_hash = ?2 LIMIT 1",
        )?;
        let mut out = Vec::with_capacity(items.len());
        for (item, source) in items.iter().zip(sources) {
            let known: Option<(i64, Option<String>)> = by_guid
                .query_row(params![feed_id, item.guid], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            out.push(match known {
                Some((id, stored)) if stored.as_ref() == Some(source) => Some(Seen::Unchanged(id)),
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
        let contents: Vec<Option<String>> = items
            .iter()
            .enumerate()
            .map(|(i, it)| {
                known
                    .get(i)
                    .copied()
                    .flatten()
                    .is_none()
                    .then(|| content_hash(it))
            })
            .collect();
        self.triage_hashed(feed_id, items, known, &contents)
    }

    /// [`Store::triage`] with the [`content_hash`] of each item not `known` computed already.
    pub fn triage_hashed(
        &mut self,
        feed_id: i64,
        items: &[ParsedItem],
        known: &[Option<Seen>],
        contents: &[Option<String>],
    ) -> Result<Vec<Seen>, StoreError> {
        let tx = self.conn.transaction()?;
        let out = items
            .iter()
            .enumerate()
            .map(|(i, it)| match known.get(i).copied().flatten() {
                Some(seen) => Ok(seen),
                None => match contents.get(i).and_then(Option::as_deref) {
                    Some(hash) => seen(&tx, feed_id, it, hash),
                    None => seen(&tx, feed_id, it, &content_hash(it)),
                },
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
        // The new rows not yet indexed, in id order (new rows get ids above every row before
        // them), with the title and body to index, taken from the batch in memory.
        let mut unindexed: Vec<FtsRow<'_>> = Vec::new();
        for new in items {
            let it = &new.parsed;
            let computed;
            let Hashes {
                content: hash,
                source,
            } = match &new.hashes {
                Some(h) => h,
                None => {
                    computed = Hashes {
                        content: content_hash(it),
                        source: source_hash(it),
                    };
                    &computed
                }
            };
            match seen(&tx, feed_id, it, hash)? {
                Seen::Unchanged(_) => {
                    // Recognised by its text: remember its source, to recognise it sooner.
                    execute(
                        &tx,
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
                    execute(
                        &tx,
                        "INSERT OR IGNORE INTO item_sources (feed_id, guid, item_id, first_seen_at, source_hash)
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![feed_id, it.guid, id, now, source],
                    )?;
                    report.same_url += 1;
                }
                Seen::Changed(id) => {
                    index_new_rows(&tx, &mut unindexed, id)?;
                    update_item(&tx, id, new, hash, now)?;
                    execute(
                        &tx,
                        "UPDATE item_sources SET source_hash = ?3 WHERE feed_id = ?1 AND guid = ?2",
                        params![feed_id, it.guid, source],
                    )?;
                    report.updated += 1;
                }
                Seen::Reissued { id, changed } => {
                    // Not a new item, and no new source row either: a feed that changes every
                    // guid on every poll must not grow the table by its whole content each time.
                    if changed {
                        index_new_rows(&tx, &mut unindexed, id)?;
                        update_item(&tx, id, new, hash, now)?;
                        report.updated += 1;
                    }
                    report.reissued += 1;
                }
                Seen::New => {
                    execute(
                        &tx,
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
                            new.packed_text(),
                            it.author,
                            it.published,
                            now,
                            hash,
                            new.language,
                            new.packed_article(),
                            new.article.as_ref().map(|a| a.status.as_str()),
                            new.language_source.as_ref().map(|l| l.0.as_str()),
                            new.language_source.as_ref().map(|l| l.1)
                        ],
                    )?;
                    let id = tx.last_insert_rowid();
                    unindexed.push(FtsRow {
                        id,
                        title: &it.title,
                        // As the index reads it back: `COALESCE(article_text, text)`.
                        body: new.article_text().unwrap_or(&it.text),
                        folded: new.ready().map(|p| (p.title.as_str(), p.body.as_str())),
                    });
                    execute(
                        &tx,
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
        index_new_rows(&tx, &mut unindexed, i64::MIN)?;
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
        execute(
            &tx,
            "UPDATE items SET language = ?2 WHERE id = ?1",
            params![item_id, language],
        )?;
        write_matches(&tx, item_id, matches, now)?;
        tx.commit()?;
        Ok(())
    }

    /// Items whose article page gave no text (any status but `ok`), with a link, of one feed
    /// when given (the feed that brought them first or any feed they were seen in), fetched
    /// since `since` when given; oldest first.
    pub fn article_retries(
        &self,
        feed: Option<&str>,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<RetryItem>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT i.id, f.name, i.url, i.title, veille_text(i.text), f.language, i.article_status
             FROM items i JOIN feeds f ON f.id = i.feed_id
             WHERE i.article_status IS NOT NULL AND i.article_status <> 'ok' AND i.url IS NOT NULL
               AND (?1 IS NULL OR f.name = ?1
                    OR EXISTS (SELECT 1 FROM item_sources s JOIN feeds g ON g.id = s.feed_id
                               WHERE s.item_id = i.id AND g.name = ?1))
               AND (?2 IS NULL OR i.fetched_at >= ?2)
             ORDER BY i.fetched_at, i.id",
        )?;
        let rows = stmt.query_map(params![feed, since], |r| {
            Ok(RetryItem {
                id: r.get(0)?,
                feed: r.get(1)?,
                url: r.get(2)?,
                title: r.get(3)?,
                text: r.get(4)?,
                feed_language: r.get(5)?,
                status: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Stores a new attempt at an item's article page: its status, its text when it gave one,
    /// and the language and topics decided from it. The text of an earlier success is kept
    /// when this attempt failed.
    pub fn set_article(
        &mut self,
        item_id: i64,
        article: &Article,
        language: Option<&str>,
        language_source: Option<(&str, f64)>,
        matches: &[StoredMatch],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let tx = self.write()?;
        tx.execute(
            "UPDATE items SET article_status = ?2, article_text = COALESCE(?3, article_text),
               language = ?4, language_source = ?5, language_confidence = ?6
             WHERE id = ?1",
            params![
                item_id,
                article.status,
                super::packed::pack_opt(article.text.as_deref()),
                language,
                language_source.map(|l| l.0),
                language_source.map(|l| l.1)
            ],
        )?;
        write_matches(&tx, item_id, matches, now)?;
        tx.commit()?;
        Ok(())
    }

    /// Topic ids with at least one stored match, sorted.
    pub fn stored_topics(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT topic FROM matches ORDER BY topic")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
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
    execute(
        tx,
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
            new.packed_text(),
            it.author,
            it.published,
            hash,
            new.language,
            new.packed_article(),
            new.article.as_ref().map(|a| a.status.as_str()),
            new.language_source.as_ref().map(|l| l.0.as_str()),
            new.language_source.as_ref().map(|l| l.1)
        ],
    )?;
    write_matches(tx, id, &new.matches, now)
}

/// The full-text row of a new item: its id, and the title and body (the article's text, else
/// the item's) it was stored with, folded already when the item was [`NewItem::prepare`]d.
struct FtsRow<'a> {
    id: i64,
    title: &'a str,
    body: &'a str,
    folded: Option<(&'a str, &'a str)>,
}

/// Rows of one full-text insert statement at most (3 parameters each).
const FTS_ROWS_PER_STATEMENT: usize = 64;

/// Writes the full-text rows of the items inserted since the last call, `unindexed`, in one
/// statement (FTS5 flushes its pending terms at every statement: one per item would flush, and
/// merge, the index once per item), when row `before` is one of them (about to be updated, which
/// re-indexes it) or at the end of the batch (`i64::MIN`). The texts are folded from the batch in
/// memory, as `veille_fold` folds them: reading them back from `items` would inflate every
/// packed text again.
fn index_new_rows(
    tx: &Transaction<'_>,
    unindexed: &mut Vec<FtsRow<'_>>,
    before: i64,
) -> rusqlite::Result<()> {
    let Some(first) = unindexed.first() else {
        return Ok(());
    };
    if before != i64::MIN && before < first.id {
        return Ok(());
    }
    for rows in unindexed.chunks(FTS_ROWS_PER_STATEMENT) {
        let folded: Vec<(i64, Cow<'_, str>, Cow<'_, str>)> = rows
            .iter()
            .map(|r| match r.folded {
                Some((title, body)) => (r.id, Cow::Borrowed(title), Cow::Borrowed(body)),
                None => (r.id, fold_str(r.title).into(), fold_str(r.body).into()),
            })
            .collect();
        let values = vec!["(?, ?, ?)"; rows.len()].join(", ");
        // One statement per batch size: not kept in the cache of prepared statements, whose
        // room is for the statements run once per item.
        tx.prepare(&format!(
            "INSERT INTO items_fts (rowid, title, body) VALUES {values}"
        ))?
        .execute(rusqlite::params_from_iter(folded.iter().flat_map(
            |(id, title, body)| {
                [
                    id as &dyn rusqlite::ToSql,
                    title as &dyn rusqlite::ToSql,
                    body as &dyn rusqlite::ToSql,
                ]
            },
        )))?;
    }
    unindexed.clear();
    Ok(())
}

/// Runs one statement of the write path, prepared once per connection (SQLite's cache of
/// prepared statements): a poll writes every item with the same few statements, and parsing
/// them again for every row cost more than the insert.
fn execute(conn: &Connection, sql: &str, params: impl Params) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute(params)
}

/// One row of a cached statement (see [`execute`]).
fn query_row<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    row: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    conn.prepare_cached(sql)?.query_row(params, row)
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
    execute(tx, "DELETE FROM matches WHERE item_id = ?1", [item_id])?;
    for m in matches {
        execute(
            tx,
            "INSERT INTO matches (item_id, topic, score, evidence, classified_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![item_id, m.topic, m.score, m.evidence_json, now],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ids of the items whose full-text row matches `word`, in order.
    fn found(s: &Store, word: &str) -> Vec<i64> {
        let mut q = s
            .conn
            .prepare("SELECT rowid FROM items_fts WHERE items_fts MATCH ?1 ORDER BY rowid")
            .unwrap();
        q.query_map([word], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// Regression (merge of issue 16's `veille refetch` with issue 18's packed texts): the items
    /// to fetch again were read with their text as stored, a deflated BLOB, which does not read
    /// as a string; and a refetched article text was written unpacked.
    #[test]
    fn refetch_reads_packed_texts_and_stores_the_new_article_packed() {
        let mut s = Store::open_in_memory().unwrap();
        let feed = crate::config::FeedConfig::for_tests(
            "f",
            "https://x.eu/rss",
            crate::config::FetchArticle::Always,
        );
        let now = DateTime::parse_from_rfc3339("2026-11-24T07:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        s.sync_feeds(&[feed], now).unwrap();
        let summary = "One line of summary from the feed, said several times over. ".repeat(8);
        let item = NewItem {
            parsed: ParsedItem {
                guid: "g".into(),
                title: "t".into(),
                url: Some("https://x.eu/a".into()),
                text: summary.clone(),
                ..ParsedItem::default()
            },
            language: Some("en".into()),
            language_source: None,
            matches: Vec::new(),
            article: Some(Article {
                text: None,
                status: "blocked".into(),
            }),
            links: None,
            hashes: None,
            prepared: None,
        };
        let id = s.store_items(1, &[item], now).unwrap().new_ids[0];
        let retries = s.article_retries(None, None).unwrap();
        assert_eq!(retries.len(), 1);
        assert_eq!(retries[0].text, summary);
        let article = "The Council adopted the regulation on cyber resilience today. ".repeat(20);
        s.set_article(
            id,
            &Article {
                text: Some(article.clone()),
                status: "ok".into(),
            },
            Some("en"),
            None,
            &[],
            now,
        )
        .unwrap();
        let (kind, text): (String, String) = s
            .conn
            .query_row(
                "SELECT typeof(article_text), veille_text(article_text) FROM items WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((kind.as_str(), text), ("blob", article));
    }

    /// The batch's full-text rows are written in one statement after its items (not by a
    /// trigger per row): every new item of every batch is found, and only those.
    #[test]
    fn every_new_item_of_a_batch_gets_its_full_text_row() {
        let mut s = Store::open_in_memory().unwrap();
        let now = Utc::now();
        let item = |guid: &str, title: &str| NewItem {
            parsed: ParsedItem {
                guid: guid.into(),
                title: title.into(),
                text: format!("Body of {guid} about cyber resilience."),
                ..ParsedItem::default()
            },
            ..NewItem::default()
        };
        let feed = crate::config::FeedConfig::for_tests(
            "f",
            "https://x.eu/rss",
            crate::config::FetchArticle::Never,
        );
        s.sync_feeds(&[feed], now).unwrap();
        let first = s
            .store_items(1, &[item("a", "Alpha"), item("b", "Bravo")], now)
            .unwrap();
        // Unchanged (no new row) and new items in one batch.
        let second = s
            .store_items(1, &[item("a", "Alpha"), item("c", "Charlie")], now)
            .unwrap();
        assert_eq!((first.new, second.new, second.unchanged), (2, 1, 1));
        let ids: Vec<i64> = [&first.new_ids[..], &second.new_ids[..]].concat();
        assert_eq!(found(&s, "resilience"), ids);
        assert_eq!(found(&s, "charlie"), second.new_ids);
        assert_eq!(found(&s, "alpha"), vec![first.new_ids[0]]);
        // A row of the batch updated later in the same batch (a second guid for its link, with
        // new text) is indexed once, with its new text.
        let linked = |guid: &str, text: &str| {
            let mut it = item(guid, "Delta");
            it.parsed.canonical_url = Some("https://x.eu/delta".into());
            it.parsed.text = text.into();
            it
        };
        let third = s
            .store_items(
                1,
                &[linked("d1", "Echo first."), linked("d2", "Foxtrot second.")],
                now,
            )
            .unwrap();
        assert_eq!((third.new, third.updated), (1, 1), "{third:?}");
        assert_eq!(found(&s, "foxtrot"), third.new_ids);
        assert_eq!(found(&s, "echo"), Vec::<i64>::new());
        assert_eq!(found(&s, "delta").len(), 1);
    }

    /// Issue 19: a batch's full-text rows are folded from the items in memory, not read back
    /// (and inflated) from `items`. The index holds exactly what reading them back gave (every
    /// term at every position, compared with an index filled the old way): packed texts, an
    /// article's text instead of the item's, a batch longer than one statement takes; and
    /// search finds the items by their folded words.
    #[test]
    fn a_batch_is_indexed_from_memory_as_it_was_from_the_table() {
        let mut s = Store::open_in_memory().unwrap();
        let now = Utc::now();
        let feed = crate::config::FeedConfig::for_tests(
            "f",
            "https://x.eu/rss",
            crate::config::FetchArticle::Auto,
        );
        s.sync_feeds(&[feed], now).unwrap();
        let mut items: Vec<NewItem> = (0..FTS_ROWS_PER_STATEMENT + 6)
            .map(|i| NewItem {
                parsed: ParsedItem {
                    guid: format!("g{i}"),
                    title: format!("Σχέδιο {i}: Η ΚΥΒΕΡΝΟΑΣΦΆΛΕΙΑ"),
                    text: format!(
                        "Η Επιτροπή ενέκρινε σήμερα το σχέδιο {i} για την κυβερνοασφάλεια. "
                    )
                    .repeat(6),
                    ..ParsedItem::default()
                },
                ..NewItem::default()
            })
            .collect();
        items[3].article = Some(Article {
            text: Some("Der Rat hat die Verordnung über Cyberresilienz angenommen. ".repeat(6)),
            status: "ok".into(),
        });
        items[4].parsed.text = "Kurz.".into();
        let report = s.store_items(1, &items, now).unwrap();
        assert_eq!(report.new, items.len());
        let count = |sql: &str| -> i64 { s.conn.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(
            count("SELECT COUNT(*) FROM items WHERE typeof(text) = 'blob'"),
            items.len() as i64 - 1,
            "every long text is stored packed"
        );

        s.conn
            .execute_batch(
                "CREATE VIRTUAL TABLE temp.old_fts USING fts5(title, body, content = '',
                   tokenize = 'unicode61 remove_diacritics 2');
                 INSERT INTO temp.old_fts (rowid, title, body)
                   SELECT id, veille_fold(title), veille_fold(veille_text(COALESCE(article_text, text)))
                   FROM items;
                 CREATE VIRTUAL TABLE temp.new_terms USING fts5vocab(main, items_fts, 'instance');
                 CREATE VIRTUAL TABLE temp.old_terms USING fts5vocab(temp, old_fts, 'instance');",
            )
            .unwrap();
        let terms = count("SELECT COUNT(*) FROM temp.new_terms");
        assert!(terms > 1000, "{terms} terms indexed");
        assert_eq!(terms, count("SELECT COUNT(*) FROM temp.old_terms"));
        assert_eq!(
            count(
                "SELECT COUNT(*) FROM (SELECT * FROM temp.new_terms EXCEPT SELECT * FROM temp.old_terms)"
            ),
            0
        );

        let found = |expression: &str| -> Vec<i64> {
            let mut ids: Vec<i64> = s
                .search(expression, None, 1000)
                .unwrap()
                .items
                .iter()
                .map(|i| i.id)
                .collect();
            ids.sort();
            ids
        };
        let mut with_text = report.new_ids.clone();
        with_text.retain(|&id| id != report.new_ids[3] && id != report.new_ids[4]);
        assert_eq!(found("\"επιτροπη\""), with_text);
        assert_eq!(
            found("\"κυβερνοασφαλεια\"").len(),
            items.len(),
            "in every title"
        );
        assert_eq!(found("\"cyberresilienz\""), vec![report.new_ids[3]]);
        assert_eq!(found("\"kurz\""), vec![report.new_ids[4]]);
        let last = items.len() - 1;
        assert_eq!(
            found(&format!("title : \"{last}\"")),
            vec![report.new_ids[last]]
        );
    }

    /// Items [`NewItem::prepare`]d before the write (packed and folded on another thread, as a
    /// poll and the year generator do) are stored exactly as items computed under the lock:
    /// the same rows, the same compressed texts, the same full-text index to the byte; an item
    /// changed after it was prepared is computed again, not stored with its old text.
    #[test]
    fn prepared_items_are_stored_as_items_computed_under_the_lock() {
        use rusqlite::types::ValueRef;
        let now = Utc::now();
        let batch = |round: usize| -> Vec<NewItem> {
            (0..12)
                .map(|i| {
                    let mut it = NewItem {
                        parsed: ParsedItem {
                            guid: format!("g{i}"),
                            title: format!("Plan {i}: cyber resilience, round {round}"),
                            text: format!("The Commission adopted plan {i} (round {round}). ")
                                .repeat(if i % 3 == 0 { 1 } else { 9 }),
                            ..ParsedItem::default()
                        },
                        ..NewItem::default()
                    };
                    if i % 4 == 1 {
                        it.article = Some(Article {
                            text: Some(format!("Der Rat hat Plan {i} angenommen. ").repeat(12)),
                            status: "ok".into(),
                        });
                    }
                    it
                })
                .collect()
        };
        let store = |prepare: bool| -> Store {
            let mut s = Store::open_in_memory().unwrap();
            let feed = crate::config::FeedConfig::for_tests(
                "f",
                "https://x.eu/rss",
                crate::config::FetchArticle::Auto,
            );
            s.sync_feeds(&[feed], now).unwrap();
            for round in 0..2 {
                let mut items = batch(round);
                if prepare {
                    items.iter_mut().for_each(NewItem::prepare);
                    // changed after it was prepared: its text of now is stored and indexed
                    items[2].parsed.text = "Stale? No: the text as stored now.".repeat(9);
                } else {
                    items[2].parsed.text = "Stale? No: the text as stored now.".repeat(9);
                }
                if round == 1 {
                    items.truncate(6); // updates of items of round 0, their texts changed
                }
                s.store_items(1, &items, now).unwrap();
            }
            s
        };
        let rows = |s: &Store, sql: &str| -> Vec<Vec<String>> {
            let mut q = s.conn.prepare(sql).unwrap();
            let n = q.column_count();
            q.query_map([], |r| {
                (0..n)
                    .map(|c| {
                        Ok(match r.get_ref(c)? {
                            ValueRef::Blob(b) => hex::encode(b),
                            v => format!("{v:?}"),
                        })
                    })
                    .collect()
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
        };
        let (plain, prepared) = (store(false), store(true));
        for sql in [
            "SELECT * FROM items ORDER BY id",
            "SELECT * FROM items_fts_data ORDER BY id",
            "SELECT * FROM items_fts_idx ORDER BY segid, term",
        ] {
            let expected = rows(&plain, sql);
            assert!(expected.len() >= 2, "{sql}: {expected:?}");
            assert_eq!(rows(&prepared, sql), expected, "{sql}");
        }
        let kinds: String = prepared
            .conn
            .query_row(
                "SELECT group_concat(typeof(text) || '/' || typeof(article_text), ' ')
                 FROM (SELECT * FROM items ORDER BY id LIMIT 3)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(kinds, "text/null blob/blob blob/null");
        let stale: String = prepared
            .conn
            .query_row(
                "SELECT veille_text(text) FROM items WHERE guid = 'g2'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(stale, "Stale? No: the text as stored now.".repeat(9));
        assert_eq!(found(&prepared, "stale").len(), 1);
    }
}
