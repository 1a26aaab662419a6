//! Retention: which old items may go, the tombstones they leave, and giving the freed space back
//! to the file system (incremental vacuum). Every call is one short transaction; the caller
//! (`service::retention`) sizes and paces them so that polls and digests go on meanwhile: a
//! prune batch stops deleting when its time budget is spent.
//!
//! An item may go when it is older (by first sight, `fetched_at`) than `keep_items` and matched
//! no topic, or older than `keep_matches` and matched one. An item someone judged, or that a
//! digest carried, is always kept. A pruned item leaves tombstones — 8-byte keys of its
//! (feed, guid) pairs and of its canonical URL — that triage checks, so that an item pruned and
//! seen again is not new; a tombstone goes once it was not seen for the retention period.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use sha2::{Digest, Sha256};

use super::Store;
use crate::error::StoreError;

/// FTS5's own default `deletemerge`: a search index level whose rows are this share (per cent)
/// deleted is merged, which drops them. Only [`Store::search_index_merge_step`] turns it on.
const DELETE_MERGE_PERCENT: i64 = 10;

/// How long items are kept (`[storage] keep_items`, `keep_matches`); `None` is forever.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retention {
    /// Items that matched no topic.
    pub keep_items: Option<Duration>,
    /// Items that matched a topic.
    pub keep_matches: Option<Duration>,
}

impl Retention {
    /// Keeps everything: nothing to prune.
    pub fn is_forever(&self) -> bool {
        self.keep_items.is_none() && self.keep_matches.is_none()
    }

    fn cutoff(keep: Option<Duration>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        keep.map(|k| now - chrono::Duration::from_std(k).unwrap_or(chrono::Duration::MAX))
    }

    /// How many days a tombstone outlives its last sighting: the longer retention period.
    fn tombstone_days(&self) -> Option<i64> {
        let days = |d: Duration| (d.as_secs() / 86_400) as i64;
        match (self.keep_items, self.keep_matches) {
            (Some(a), Some(b)) => Some(days(a.max(b))),
            (a, b) => a.or(b).map(days),
        }
    }
}

/// An item old enough to be looked at.
struct Candidate {
    id: i64,
    /// `fetched_at` as stored (the cursor compares text).
    fetched_text: String,
    fetched_at: DateTime<Utc>,
    canonical_url: Option<String>,
    matched: bool,
    /// Judged, or carried by a digest.
    kept: bool,
}

/// Where a pass over the items stands: the last item looked at, by (`fetched_at`, id).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneCursor {
    fetched_at: String,
    id: i64,
}

/// What one batch did (or, in a dry run, would do).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PruneBatch {
    /// Items looked at.
    pub scanned: usize,
    /// Items that matched no topic, pruned.
    pub unmatched: usize,
    /// Items that matched a topic, pruned (`keep_matches`).
    pub matched: usize,
    /// Items old enough to go but kept: judged, or carried by a digest.
    pub kept: usize,
    /// Tombstones written.
    pub tombstones: usize,
    /// The time budget ran out before every item read was looked at: the cursor stands on the
    /// last item handled, and the next batch reads the others again.
    pub cut_short: bool,
    /// The longest time one item took to prune (its tombstones, its row and what goes with it:
    /// sources, matches, search row).
    pub slowest_item: Duration,
    /// How long the batch held the write lock, its commit included (zero when it did not take
    /// it).
    pub held: Duration,
    /// How long its commit took.
    pub commit: Duration,
    /// No item old enough is left after this batch.
    pub done: bool,
}

/// The database file's pages: its size and the space that vacuum can give back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileStats {
    pub page_size: i64,
    pub pages: i64,
    pub free_pages: i64,
    /// 0 none, 1 full, 2 incremental (`PRAGMA auto_vacuum`).
    pub auto_vacuum: i64,
}

impl FileStats {
    pub fn bytes(&self) -> i64 {
        self.page_size * self.pages
    }
    pub fn free_bytes(&self) -> i64 {
        self.page_size * self.free_pages
    }
    pub fn incremental(&self) -> bool {
        self.auto_vacuum == 2
    }
}

/// The tombstone key of an item seen in feed `feed_id` under `guid`.
pub fn guid_key(feed_id: i64, guid: &str) -> i64 {
    key(&[b"guid", &feed_id.to_le_bytes(), guid.as_bytes()])
}

/// The tombstone key of an item's canonical URL.
pub fn url_key(canonical_url: &str) -> i64 {
    key(&[b"url", canonical_url.as_bytes()])
}

fn key(parts: &[&[u8]]) -> i64 {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    let d = h.finalize();
    i64::from_le_bytes(d[..8].try_into().expect("8 bytes of a SHA-256"))
}

/// Days since 1970-01-01 (the unit of `tombstones.seen_on`).
pub fn day(t: DateTime<Utc>) -> i64 {
    t.timestamp().div_euclid(86_400)
}

/// Whether an item is tombstoned: seen in `feed_id` under `guid`, or at `canonical_url`, and
/// pruned since.
pub(super) fn tombstoned(
    conn: &rusqlite::Connection,
    feed_id: i64,
    guid: &str,
    canonical_url: Option<&str>,
) -> Result<bool, StoreError> {
    let url = canonical_url.map(url_key);
    // On the poll's write path (every item not stored): a cached statement, as its neighbours.
    Ok(conn
        .prepare_cached("SELECT 1 FROM tombstones WHERE key = ?1 OR key = ?2")?
        .query_row(params![guid_key(feed_id, guid), url], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Marks the tombstones of an item seen again today, so they outlive its last sighting.
pub(super) fn touch(
    conn: &rusqlite::Connection,
    feed_id: i64,
    guid: &str,
    canonical_url: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE tombstones SET seen_on = ?3 WHERE (key = ?1 OR key = ?2) AND seen_on < ?3",
    )?
    .execute(params![
        guid_key(feed_id, guid),
        canonical_url.map(url_key),
        day(now)
    ])?;
    Ok(())
}

/// Up to `scan` items fetched before `bound`, after `cursor`, in (`fetched_at`, id) order.
fn candidates(
    conn: &rusqlite::Connection,
    bound: DateTime<Utc>,
    cursor: &PruneCursor,
    scan: usize,
) -> Result<Vec<Candidate>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT i.id, i.fetched_at, i.fetched_at, i.canonical_url,
                EXISTS (SELECT 1 FROM matches m WHERE m.item_id = i.id),
                EXISTS (SELECT 1 FROM judgements j WHERE j.item_id = i.id)
                  OR EXISTS (SELECT 1 FROM digest_items d WHERE d.item_id = i.id)
         FROM items i
         WHERE i.fetched_at < ?1 AND i.fetched_at >= ?2 AND (i.fetched_at, i.id) > (?2, ?3)
         ORDER BY i.fetched_at, i.id LIMIT ?4",
    )?;
    let rows = stmt
        .query_map(
            params![bound, cursor.fetched_at, cursor.id, scan as i64],
            |r| {
                Ok(Candidate {
                    id: r.get(0)?,
                    fetched_text: r.get(1)?,
                    fetched_at: r.get(2)?,
                    canonical_url: r.get(3)?,
                    matched: r.get(4)?,
                    kept: r.get(5)?,
                })
            },
        )?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Walks a batch's `rows` in order: counts each into `out`, hands those that go to `prune`, and
/// moves `cursor` onto the last row handled. Stops early, with `out.cut_short`, when `spent` says
/// the time budget is gone (always after at least one row, so that every batch moves on).
fn walk(
    out: &mut PruneBatch,
    rows: &[Candidate],
    scan: usize,
    cursor: &mut PruneCursor,
    may_go: impl Fn(&Candidate) -> bool,
    mut prune: impl FnMut(&Candidate) -> Result<(), StoreError>,
    spent: impl Fn() -> bool,
) -> Result<(), StoreError> {
    for (i, c) in rows.iter().enumerate() {
        if may_go(c) {
            if c.kept {
                out.kept += 1;
            } else {
                if c.matched {
                    out.matched += 1;
                } else {
                    out.unmatched += 1;
                }
                prune(c)?;
            }
        }
        out.scanned = i + 1;
        cursor.fetched_at = c.fetched_text.clone();
        cursor.id = c.id;
        if i + 1 < rows.len() && spent() {
            out.cut_short = true;
            return Ok(());
        }
    }
    out.done = rows.len() < scan;
    Ok(())
}

impl Store {
    /// Looks at up to `scan` items after `cursor` that are old enough for `retention`, prunes
    /// those that may go (unless `dry_run`) with their sources, matches and search rows, writes
    /// their tombstones, and moves the cursor on. The items are read first without the write
    /// lock: a batch with nothing to prune (old items kept for their matches, judgements or
    /// digests, which every run walks past again) never takes it. A batch with something to
    /// prune reads them again and prunes in one write transaction, which stops when it has held
    /// the lock for `budget` (after at least one item) and commits what it did: the cursor
    /// stands on the last item handled, so the next batch carries on from there.
    pub fn prune_batch(
        &mut self,
        retention: &Retention,
        now: DateTime<Utc>,
        cursor: &mut PruneCursor,
        scan: usize,
        budget: Duration,
        dry_run: bool,
    ) -> Result<PruneBatch, StoreError> {
        let items_before = Retention::cutoff(retention.keep_items, now);
        let matches_before = Retention::cutoff(retention.keep_matches, now);
        let Some(bound) = items_before.max(matches_before) else {
            return Ok(PruneBatch {
                done: true,
                ..PruneBatch::default()
            });
        };
        let may_go = |c: &Candidate| {
            let before = if c.matched {
                matches_before
            } else {
                items_before
            };
            before.is_some_and(|b| c.fetched_at < b)
        };
        let start = cursor.clone();
        let rows = {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Deferred)?;
            let rows = candidates(&tx, bound, &start, scan)?;
            tx.commit()?;
            rows
        };
        let mut out = PruneBatch::default();
        if dry_run || !rows.iter().any(|c| may_go(c) && !c.kept) {
            walk(&mut out, &rows, scan, cursor, may_go, |_| Ok(()), || false)?;
            return Ok(out);
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let locked = Instant::now();
        let rows = candidates(&tx, bound, &start, scan)?;
        let today = day(now);
        let mut tombstones = 0;
        let mut slowest_item = Duration::ZERO;
        let prune = |c: &Candidate| -> Result<(), StoreError> {
            let t = Instant::now();
            let mut keys: Vec<i64> = {
                let mut s =
                    tx.prepare_cached("SELECT feed_id, guid FROM item_sources WHERE item_id = ?1")?;
                s.query_map([c.id], |r| Ok(guid_key(r.get(0)?, &r.get::<_, String>(1)?)))?
                    .collect::<Result<_, _>>()?
            };
            keys.extend(c.canonical_url.as_deref().map(url_key));
            {
                let mut put = tx.prepare_cached(
                    "INSERT INTO tombstones (key, seen_on) VALUES (?1, ?2)
                     ON CONFLICT(key) DO UPDATE SET seen_on = MAX(seen_on, excluded.seen_on)",
                )?;
                for k in &keys {
                    put.execute(params![k, today])?;
                }
            }
            tombstones += keys.len();
            tx.prepare_cached("DELETE FROM items WHERE id = ?1")?
                .execute([c.id])?;
            slowest_item = slowest_item.max(t.elapsed());
            Ok(())
        };
        // The cursor moves only once the batch is committed: a batch that fails leaves it where
        // it was, and the items it was pruning are looked at again.
        let mut next = cursor.clone();
        walk(&mut out, &rows, scan, &mut next, may_go, prune, || {
            locked.elapsed() >= budget
        })?;
        out.tombstones = tombstones;
        out.slowest_item = slowest_item;
        let committing = Instant::now();
        tx.commit()?;
        out.commit = committing.elapsed();
        out.held = locked.elapsed();
        *cursor = next;
        Ok(out)
    }

    /// Removes up to `limit` tombstones not seen for the retention period; returns how many.
    pub fn expire_tombstones(
        &mut self,
        retention: &Retention,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<usize, StoreError> {
        let Some(days) = retention.tombstone_days() else {
            return Ok(0);
        };
        let n = self.conn.execute(
            "DELETE FROM tombstones WHERE key IN
               (SELECT key FROM tombstones WHERE seen_on < ?1 LIMIT ?2)",
            params![day(now) - days, limit as i64],
        )?;
        Ok(n)
    }

    /// How many tombstones are kept.
    pub fn tombstone_count(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM tombstones", [], |r| r.get(0))?)
    }

    /// The file's pages and free pages.
    pub fn file_stats(&self) -> Result<FileStats, StoreError> {
        let get = |p: &str| -> Result<i64, StoreError> {
            Ok(self.conn.pragma_query_value(None, p, |r| r.get(0))?)
        };
        Ok(FileStats {
            page_size: get("page_size")?,
            pages: get("page_count")?,
            free_pages: get("freelist_count")?,
            auto_vacuum: get("auto_vacuum")?,
        })
    }

    /// Gives up to `pages` free pages back to the file system (incremental vacuum), stopping
    /// once `budget` is spent (after one page at least); returns how many pages it gave back and
    /// how many free pages are left. Does nothing unless the file is in incremental mode.
    pub fn vacuum_step(
        &mut self,
        pages: usize,
        budget: Duration,
    ) -> Result<(i64, i64), StoreError> {
        let mut given = 0;
        if self.file_stats()?.incremental() {
            // The pragma gives back one page per step of its statement (a row each): it must be
            // stepped to the end (`execute_batch` steps once, which freed one page per call), or
            // until the budget is spent: a page that must be moved to free the file's last one
            // costs reads and writes, and a step of 1,024 such pages held the write lock for
            // 1.4 s. The statement runs in its own transaction, which commits the pages given
            // back so far when the statement is dropped.
            let started = Instant::now();
            let mut stmt = self
                .conn
                .prepare(&format!("PRAGMA incremental_vacuum({})", pages.max(1)))?;
            let mut rows = stmt.query([])?;
            while rows.next()?.is_some() {
                given += 1;
                if started.elapsed() >= budget {
                    break;
                }
            }
        }
        Ok((given, self.file_stats()?.free_pages))
    }

    /// Rewrites the whole file in incremental auto-vacuum mode (databases made before veille
    /// set it). Takes the write lock for as long as the file takes to copy.
    pub fn enable_incremental_vacuum(&mut self) -> Result<(), StoreError> {
        self.conn
            .execute_batch("PRAGMA auto_vacuum = INCREMENTAL; VACUUM;")?;
        Ok(())
    }

    /// One step of merging the search index's segments, which drops the rows of deleted items
    /// for good; `false` when there was nothing left to merge.
    ///
    /// The index keeps FTS5's `deletemerge` off (migration 0011), so that deleting an item never
    /// rewrites index segments inside its DELETE; this step turns it on (a level whose rows are
    /// a tenth or more deleted is merged even when it is the only one) for its own transaction.
    pub fn search_index_merge_step(&mut self, pages: usize) -> Result<bool, StoreError> {
        let tx = self.write()?;
        tx.execute(
            "INSERT INTO items_fts (items_fts, rank) VALUES ('deletemerge', ?1)",
            [DELETE_MERGE_PERCENT],
        )?;
        let before = tx.total_changes();
        tx.execute(
            "INSERT INTO items_fts (items_fts, rank) VALUES ('merge', ?1)",
            [pages as i64],
        )?;
        let merged = tx.total_changes() - before >= 2;
        tx.execute(
            "INSERT INTO items_fts (items_fts, rank) VALUES ('deletemerge', 0)",
            [],
        )?;
        tx.commit()?;
        Ok(merged)
    }

    /// Copies the write-ahead log into the file (without waiting for readers), which is when a
    /// vacuumed file shrinks.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// When retention last ran to the end.
    pub fn last_prune(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let v: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM maintenance WHERE name = 'last_prune'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        Ok(v.and_then(|v| DateTime::parse_from_rfc3339(&v).ok())
            .map(|t| t.with_timezone(&Utc)))
    }

    /// Records that retention ran to the end at `at`.
    pub fn set_last_prune(&mut self, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO maintenance (name, value) VALUES ('last_prune', ?1)
             ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            [at.to_rfc3339()],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ParsedItem;
    use crate::store::{NewDigest, NewItem, NewJudgement, Seen, StoredMatch, Verdict};

    const DAY: Duration = Duration::from_secs(86_400);

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn feed(s: &mut Store) {
        let f = |name: &str| {
            crate::config::FeedConfig::for_tests(
                name,
                &format!("https://x.eu/{name}"),
                crate::config::FetchArticle::Never,
            )
        };
        s.sync_feeds(&[f("f"), f("g")], at("2026-01-01T00:00:00Z"))
            .unwrap();
    }

    fn item(guid: &str, matched: bool) -> NewItem {
        NewItem {
            parsed: ParsedItem {
                guid: guid.into(),
                url: Some(format!("https://x.eu/a/{guid}")),
                canonical_url: Some(format!("https://x.eu/a/{guid}")),
                title: format!("title {guid}"),
                text: format!("zebra body of {guid}"),
                ..ParsedItem::default()
            },
            matches: if matched {
                vec![StoredMatch {
                    topic: "t".into(),
                    score: 0.9,
                    evidence_json: "[]".into(),
                }]
            } else {
                Vec::new()
            },
            ..NewItem::default()
        }
    }

    fn keep(items: u64, matches: Option<u64>) -> Retention {
        Retention {
            keep_items: Some(DAY * items as u32),
            keep_matches: matches.map(|d| DAY * d as u32),
        }
    }

    fn prune_all(s: &mut Store, r: &Retention, now: DateTime<Utc>, scan: usize) -> PruneBatch {
        let mut cursor = PruneCursor::default();
        let mut total = PruneBatch::default();
        loop {
            let b = s
                .prune_batch(r, now, &mut cursor, scan, Duration::MAX, false)
                .unwrap();
            add_counts(&mut total, &b);
            if b.done {
                return total;
            }
        }
    }

    /// Adds the item and tombstone counts of `b` to `total`.
    fn add_counts(total: &mut PruneBatch, b: &PruneBatch) {
        total.scanned += b.scanned;
        total.unmatched += b.unmatched;
        total.matched += b.matched;
        total.kept += b.kept;
        total.tombstones += b.tombstones;
    }

    /// As the pipeline asks: recognised by source first, then triaged.
    fn triage(s: &mut Store, feed: i64, items: &[ParsedItem]) -> Result<Vec<Seen>, StoreError> {
        let known = s.recognise(feed, items)?;
        s.triage(feed, items, &known)
    }

    fn fts_rows(s: &Store) -> i64 {
        s.conn
            .query_row(
                "SELECT COUNT(*) FROM items_fts WHERE items_fts MATCH 'zebra'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    }

    #[test]
    fn old_unmatched_items_go_with_their_sources_and_search_rows_and_the_rest_stays() {
        let mut s = Store::open_in_memory().unwrap();
        feed(&mut s);
        let old = at("2026-01-10T00:00:00Z");
        let ids = s
            .store_items(
                1,
                &[
                    item("plain", false),
                    item("matched", true),
                    item("judged", false),
                    item("carried", false),
                ],
                old,
            )
            .unwrap()
            .new_ids;
        // the same article seen in feed g too
        s.store_items(2, &[item("plain", false)], old).unwrap();
        let recent = s
            .store_items(1, &[item("recent", false)], at("2026-07-01T00:00:00Z"))
            .unwrap()
            .new_ids;
        s.record_judgement(&NewJudgement {
            item_id: ids[2],
            topic: "t".into(),
            verdict: Verdict::ShouldMatch,
            via: "page",
            at: old,
        })
        .unwrap();
        s.save_digest(
            &NewDigest {
                watchlist: "w".into(),
                message_id: "<1@x>".into(),
                subject: "s".into(),
                envelope_from: "a@x".into(),
                envelope_to: vec!["b@x".into()],
                message: b"m".to_vec(),
                item_ids: vec![ids[3]],
                composed_at: old,
                mailed: true,
                webhook: None,
            },
            None,
        )
        .unwrap();
        assert_eq!(fts_rows(&s), 5);

        let now = at("2026-08-01T00:00:00Z");
        let r = keep(180, None);
        let mut cursor = PruneCursor::default();
        let dry = s
            .prune_batch(&r, now, &mut cursor, 100, Duration::MAX, true)
            .unwrap();
        assert_eq!((dry.unmatched, dry.matched, dry.kept), (1, 0, 2));
        assert_eq!(s.item_count().unwrap(), 5, "a dry run changes nothing");

        let done = prune_all(&mut s, &r, now, 100);
        assert_eq!((done.unmatched, done.matched, done.kept), (1, 0, 2));
        assert_eq!(done.tombstones, 3, "two (feed, guid) pairs and the URL");
        let left: Vec<i64> = s
            .items(&Default::default())
            .unwrap()
            .iter()
            .map(|i| i.id)
            .collect();
        assert!(!left.contains(&ids[0]));
        for id in [ids[1], ids[2], ids[3], recent[0]] {
            assert!(left.contains(&id), "item {id} kept");
        }
        assert_eq!(fts_rows(&s), 4, "its search row went with it");
        let sources: i64 = s
            .conn
            .query_row(
                "SELECT COUNT(*) FROM item_sources WHERE item_id = ?1",
                [ids[0]],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(sources, 0);

        // keep_matches prunes old matched items too, but never judged or carried ones
        let done = prune_all(&mut s, &keep(180, Some(30)), now, 100);
        assert_eq!((done.unmatched, done.matched, done.kept), (0, 1, 2));
        assert_eq!(s.item_count().unwrap(), 3);
    }

    #[test]
    fn an_item_pruned_and_seen_again_is_not_new_in_its_feed_nor_in_another() {
        let mut s = Store::open_in_memory().unwrap();
        feed(&mut s);
        let old = at("2026-01-10T00:00:00Z");
        s.store_items(1, &[item("a", false), item("b", false)], old)
            .unwrap();
        let now = at("2026-08-01T00:00:00Z");
        prune_all(&mut s, &keep(180, None), now, 100);
        assert_eq!(s.item_count().unwrap(), 0);
        let again = [item("a", false).parsed, item("b", false).parsed];
        assert_eq!(
            triage(&mut s, 1, &again).unwrap(),
            [Seen::Pruned, Seen::Pruned]
        );
        // same URL under another guid in another feed
        let mut moved = item("a", false).parsed;
        moved.guid = "elsewhere".into();
        assert_eq!(triage(&mut s, 2, &[moved]).unwrap(), [Seen::Pruned]);
        let report = s.store_items(1, &[item("a", false)], now).unwrap();
        assert_eq!((report.new, report.unchanged), (0, 1));
        assert_eq!(s.item_count().unwrap(), 0);
        // a really new item is still new
        assert_eq!(
            triage(&mut s, 1, &[item("c", false).parsed]).unwrap(),
            [Seen::New]
        );
    }

    #[test]
    fn tombstones_outlive_their_last_sighting_by_the_retention_period() {
        let mut s = Store::open_in_memory().unwrap();
        feed(&mut s);
        s.store_items(
            1,
            &[item("a", false), item("b", false)],
            at("2026-01-10T00:00:00Z"),
        )
        .unwrap();
        let r = keep(180, None);
        prune_all(&mut s, &r, at("2026-08-01T00:00:00Z"), 100);
        assert_eq!(s.tombstone_count().unwrap(), 4);
        // "a" is still listed by its feed months later: its tombstones are refreshed
        s.store_items(1, &[item("a", false)], at("2026-12-01T00:00:00Z"))
            .unwrap();
        let later = at("2027-03-01T00:00:00Z"); // 212 days after the prune
        assert_eq!(s.expire_tombstones(&r, later, 1).unwrap(), 1, "in batches");
        assert_eq!(s.expire_tombstones(&r, later, 100).unwrap(), 1);
        assert_eq!(s.tombstone_count().unwrap(), 2);
        assert_eq!(
            triage(&mut s, 1, &[item("a", false).parsed]).unwrap(),
            [Seen::Pruned]
        );
        assert_eq!(
            triage(&mut s, 1, &[item("b", false).parsed]).unwrap(),
            [Seen::New]
        );
    }

    #[test]
    fn batches_walk_past_kept_items_and_stop_at_the_cutoff() {
        let mut s = Store::open_in_memory().unwrap();
        feed(&mut s);
        for day in 0..40 {
            let t = at("2026-01-01T00:00:00Z") + chrono::Duration::days(day);
            let batch: Vec<NewItem> = (0..5)
                .map(|i| item(&format!("d{day}-{i}"), i == 0))
                .collect();
            s.store_items(1, &batch, t).unwrap();
        }
        // keep 30 days on Feb 20: items fetched before Jan 21 (days 0 to 19) go
        let now = at("2026-02-20T00:00:00Z");
        let done = prune_all(&mut s, &keep(30, None), now, 7);
        assert_eq!(done.unmatched, 4 * 20, "four unmatched a day");
        assert_eq!(done.scanned, 5 * 20, "nothing past the cutoff is looked at");
        assert_eq!(s.item_count().unwrap(), 200 - 80);
        let again = prune_all(&mut s, &keep(30, None), now, 7);
        assert_eq!(again.unmatched, 0);
    }

    /// A prune walks past every old item kept for its match (by default forever) again each
    /// day. Those batches, nothing to prune in them, took the write lock back to back (no pause
    /// follows a batch that pruned nothing), holding polls and digests behind them.
    #[test]
    fn a_batch_with_nothing_to_prune_does_not_take_the_write_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.db");
        let mut s = Store::open(&path).unwrap();
        feed(&mut s);
        let old = at("2026-01-10T00:00:00Z");
        let matched: Vec<NewItem> = (0..20).map(|i| item(&format!("m{i}"), true)).collect();
        s.store_items(1, &matched, old).unwrap();
        s.store_items(1, &[item("plain", false)], old + chrono::Duration::days(1))
            .unwrap();
        s.conn.busy_timeout(Duration::from_millis(50)).unwrap();
        let other = rusqlite::Connection::open(&path).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();

        let (r, now) = (keep(180, None), at("2026-08-01T00:00:00Z"));
        let mut cursor = PruneCursor::default();
        for _ in 0..2 {
            let b = s
                .prune_batch(&r, now, &mut cursor, 7, Duration::MAX, false)
                .unwrap();
            assert_eq!((b.scanned, b.unmatched, b.done), (7, 0, false));
        }
        // The batch holding `plain` needs the lock, and waits for it as any writer does.
        assert!(
            s.prune_batch(&r, now, &mut cursor, 7, Duration::MAX, false)
                .is_err()
        );
        other.execute_batch("COMMIT").unwrap();
        let b = s
            .prune_batch(&r, now, &mut cursor, 7, Duration::MAX, false)
            .unwrap();
        assert_eq!((b.scanned, b.unmatched), (7, 1));
        let b = s
            .prune_batch(&r, now, &mut cursor, 7, Duration::MAX, false)
            .unwrap();
        assert_eq!((b.scanned, b.done), (0, true));
        assert_eq!(s.item_count().unwrap(), 20);
    }

    /// Issue 18: a prune batch held the write lock for up to 3.4 s (500 items deleted in one
    /// transaction), and a poll waiting behind it took 3.8 s. A batch now stops when its time
    /// budget is spent and commits; the next one carries on from the last item handled.
    #[test]
    fn a_batch_out_of_time_commits_what_it_did_and_the_next_carries_on_with_nothing_skipped_or_pruned_twice()
     {
        let dir = tempfile::tempdir().unwrap();
        let fill = |name: &str| {
            let mut s = Store::open(&dir.path().join(name)).unwrap();
            feed(&mut s);
            for day in 0..6 {
                let t = at("2026-01-01T00:00:00Z") + chrono::Duration::days(day);
                let batch: Vec<NewItem> = (0..6)
                    .map(|i| item(&format!("d{day}-{i}"), i % 3 == 0))
                    .collect();
                let ids = s.store_items(1, &batch, t).unwrap().new_ids;
                s.record_judgement(&NewJudgement {
                    item_id: ids[1],
                    topic: "t".into(),
                    verdict: Verdict::ShouldMatch,
                    via: "page",
                    at: t,
                })
                .unwrap();
            }
            s
        };
        let state = |s: &Store| {
            let q = |sql: &str| -> Vec<(i64, i64)> {
                let mut st = s.conn.prepare(sql).unwrap();
                st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap()
            };
            (
                q("SELECT id, 0 FROM items ORDER BY id"),
                q("SELECT key, seen_on FROM tombstones ORDER BY key"),
                q("SELECT item_id, feed_id FROM item_sources ORDER BY item_id"),
                fts_rows(s),
            )
        };
        let (r, now) = (keep(30, Some(30)), at("2026-06-01T00:00:00Z"));

        let mut whole = fill("whole.db");
        let all = prune_all(&mut whole, &r, now, 500);
        assert_eq!((all.unmatched, all.matched, all.kept), (18, 12, 6));

        // No time at all: every batch with something to prune stops after its first item.
        let mut bit = fill("bit.db");
        let (mut cursor, mut total, mut writes) =
            (PruneCursor::default(), PruneBatch::default(), 0);
        loop {
            let b = bit
                .prune_batch(&r, now, &mut cursor, 500, Duration::ZERO, false)
                .unwrap();
            assert!(b.unmatched + b.matched <= 1, "one item a batch: {b:?}");
            writes += usize::from(b.unmatched + b.matched > 0);
            add_counts(&mut total, &b);
            if b.done {
                break;
            }
            assert!(
                b.cut_short,
                "a batch that is not the last was cut short: {b:?}"
            );
        }
        assert_eq!(writes, 30, "a transaction per item pruned");
        assert_eq!(total.scanned, all.scanned, "every item looked at once");
        assert_eq!(
            (total.unmatched, total.matched, total.kept, total.tombstones),
            (all.unmatched, all.matched, all.kept, all.tombstones),
            "nothing skipped, nothing pruned twice"
        );
        assert_eq!(state(&bit), state(&whole), "the same database in the end");
        assert_eq!(bit.item_count().unwrap(), 6, "the judged items");
    }

    #[test]
    fn forever_prunes_nothing() {
        let mut s = Store::open_in_memory().unwrap();
        feed(&mut s);
        s.store_items(1, &[item("a", false)], at("2000-01-01T00:00:00Z"))
            .unwrap();
        let mut cursor = PruneCursor::default();
        let b = s
            .prune_batch(
                &Retention::default(),
                Utc::now(),
                &mut cursor,
                10,
                Duration::MAX,
                false,
            )
            .unwrap();
        assert_eq!(
            b,
            PruneBatch {
                done: true,
                ..PruneBatch::default()
            }
        );
        assert_eq!(s.item_count().unwrap(), 1);
    }

    /// A store at `path` whose 200 long items were stored and deleted: its file has free pages.
    fn store_with_free_pages(path: &std::path::Path) -> Store {
        let mut s = Store::open(path).unwrap();
        feed(&mut s);
        let batch: Vec<NewItem> = (0..200)
            .map(|i| {
                let mut it = item(&format!("i{i}"), false);
                it.parsed.text = format!("{i} ").repeat(2_000);
                it
            })
            .collect();
        s.store_items(1, &batch, at("2026-01-01T00:00:00Z"))
            .unwrap();
        s.conn.execute_batch("DELETE FROM items").unwrap();
        s
    }

    /// No time limit for a vacuum step, where a test counts pages.
    const LONG: Duration = Duration::from_secs(3600);

    /// Regression (issue 18): a vacuum step gave back every page it was asked for whatever that
    /// took, and one step of a simulated year's prune held the write lock for 1.4 s while polls
    /// waited. A step now stops once its time budget is spent, keeping (committing) the pages
    /// given back so far; with no budget at all it gives back one page, and the next step carries
    /// on from there.
    #[test]
    fn a_vacuum_step_stops_when_its_time_budget_is_spent_and_keeps_what_it_gave_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.db");
        let mut s = store_with_free_pages(&path);
        let before = s.file_stats().unwrap();
        assert!(
            before.free_pages > 100,
            "the test needs free pages: {before:?}"
        );
        assert_eq!(
            s.vacuum_step(1_000, Duration::ZERO).unwrap(),
            (1, before.free_pages - 1),
            "one page, then the budget is spent"
        );
        // Given back for good: another connection sees the file one page shorter.
        let other = rusqlite::Connection::open(&path).unwrap();
        let pages: i64 = other
            .pragma_query_value(None, "page_count", |r| r.get(0))
            .unwrap();
        assert_eq!(pages, before.pages - 1);
        assert_eq!(
            s.vacuum_step(1_000, LONG).unwrap(),
            (before.free_pages - 1, 0),
            "the next step carries on"
        );
    }

    /// Regression: `PRAGMA incremental_vacuum(N)` frees one page per step of its statement, and
    /// the statement was stepped once, so each call gave back one page whatever N was. A prune
    /// with nothing to delete then walked a file's few thousand free pages one at a time, each
    /// followed by a 100 ms pause: 240 s of wall time on half a second of CPU.
    #[test]
    fn one_vacuum_step_gives_back_all_the_pages_it_is_asked_for_not_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = store_with_free_pages(&dir.path().join("v.db"));
        let free = s.file_stats().unwrap().free_pages;
        assert!(free > 100, "the test needs free pages: {free}");
        assert_eq!(
            s.vacuum_step(40, LONG).unwrap(),
            (40, free - 40),
            "forty pages, not one"
        );
        assert_eq!(s.vacuum_step(free as usize, LONG).unwrap(), (free - 40, 0));
    }

    /// Regression: a prune's DELETE (cascades, triggers) journals the pages it changes in case
    /// it fails halfway, and SQLite spilled that statement journal to a new file in /var/tmp past
    /// 64 KiB: about 28 writes per item on a simulated year (strace). It stays in memory now.
    #[test]
    fn statement_journals_stay_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("v.db")).unwrap();
        let temp_store: i64 = s
            .conn
            .pragma_query_value(None, "temp_store", |r| r.get(0))
            .unwrap();
        assert_eq!(temp_store, 2, "PRAGMA temp_store = MEMORY");
    }

    /// The search index's segments (their ids) and the bytes of their pages.
    fn index_segments(s: &Store) -> (Vec<i64>, i64) {
        // FTS5 numbers a segment's pages `segid << 37 | page`; ids under 1 << 37 are the index's
        // own records, segids from 1 << 16 up hold tombstones
        let segs = s
            .conn
            .prepare("SELECT DISTINCT id >> 37 FROM items_fts_data WHERE id >> 37 BETWEEN 1 AND 65535 ORDER BY 1")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let bytes = s
            .conn
            .query_row(
                "SELECT SUM(length(block)) FROM items_fts_data WHERE id >> 37 BETWEEN 1 AND 65535",
                [],
                |r| r.get(0),
            )
            .unwrap();
        (segs, bytes)
    }

    /// Regression: with FTS5's default `deletemerge` an item's DELETE, once a tenth of its index
    /// level was deleted rows, rewrote that level there and then (up to 0.6 s for one item on a
    /// simulated year, holding the write lock). Deletes now only mark rows deleted; the merge
    /// steps drop them.
    #[test]
    fn pruning_leaves_the_search_index_to_the_merge_steps_which_drop_the_deleted_rows() {
        let mut s = Store::open_in_memory().unwrap();
        feed(&mut s);
        let batch = |prefix: &str| -> Vec<NewItem> {
            (0..300)
                .map(|i| item(&format!("{prefix}{i}"), false))
                .collect()
        };
        s.store_items(1, &batch("old"), at("2026-01-01T00:00:00Z"))
            .unwrap();
        s.store_items(1, &batch("new"), at("2026-05-25T00:00:00Z"))
            .unwrap();
        // one segment: the levels hold no four segments, which any write would merge
        while s.search_index_merge_step(64).unwrap() {}
        let (before, _) = index_segments(&s);
        assert_eq!(before.len(), 1);
        // ten items a transaction: thirty transactions, each flushing its deletes
        let pruned = prune_all(&mut s, &keep(30, None), at("2026-06-01T00:00:00Z"), 10);
        assert_eq!(pruned.unmatched, 300);
        let (after_prune, bytes_after_prune) = index_segments(&s);
        assert_eq!(after_prune, before, "no segment was merged by the deletes");
        let found = |s: &Store| -> i64 {
            s.conn
                .query_row(
                    "SELECT COUNT(*) FROM items_fts WHERE items_fts MATCH 'zebra'",
                    [],
                    |r| r.get(0),
                )
                .unwrap()
        };
        assert_eq!(found(&s), 300, "deleted rows are not found meanwhile");
        let mut steps = 0;
        while s.search_index_merge_step(64).unwrap() {
            steps += 1;
            assert!(steps < 1_000, "the merge steps come to an end");
        }
        let (merged, bytes_merged) = index_segments(&s);
        assert_ne!(merged, before, "the merge steps rewrote the segments");
        assert!(
            bytes_merged * 10 < bytes_after_prune * 7,
            "the deleted rows' entries are gone: {bytes_after_prune} → {bytes_merged} bytes"
        );
        assert_eq!(found(&s), 300);
        let deletemerge: i64 = s
            .conn
            .query_row(
                "SELECT v FROM items_fts_config WHERE k = 'deletemerge'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(deletemerge, 0, "a merge step turns it off again");
    }

    #[test]
    fn a_new_database_file_shrinks_when_items_are_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.db");
        let mut s = Store::open(&path).unwrap();
        assert!(s.file_stats().unwrap().incremental());
        feed(&mut s);
        // words from a small generator: text that compresses about as much as prose
        let mut x: u64 = 42;
        let mut words = |n: usize| -> String {
            (0..n)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    format!("w{:x}", x % 100_000)
                })
                .collect::<Vec<_>>()
                .join(" ")
        };
        let batch: Vec<NewItem> = (0..500)
            .map(|i| {
                let mut it = item(&format!("i{i}"), false);
                it.parsed.text = words(600);
                it
            })
            .collect();
        s.store_items(1, &batch, at("2026-01-01T00:00:00Z"))
            .unwrap();
        s.checkpoint().unwrap();
        let full = s.file_stats().unwrap().bytes();
        prune_all(&mut s, &keep(30, None), at("2026-06-01T00:00:00Z"), 100);
        assert!(s.file_stats().unwrap().free_pages > 0);
        while s.vacuum_step(64, LONG).unwrap().1 > 0 {}
        while s.search_index_merge_step(64).unwrap() {}
        while s.vacuum_step(64, LONG).unwrap().1 > 0 {}
        s.checkpoint().unwrap();
        let after = s.file_stats().unwrap().bytes();
        assert!(after * 5 < full, "{full} bytes before, {after} after");
        drop(s);
        let on_disk = std::fs::metadata(&path).unwrap().len() as i64;
        assert!(on_disk * 5 < full, "the file itself shrank: {on_disk}");
    }
}
