//! Feed rows: syncing them with the configuration, choosing the due ones, recording fetch health.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::Store;
use crate::config::FeedConfig;
use crate::error::StoreError;
use crate::model::{ArticleReport, FeedRow};

/// A feed to poll now, with what conditional GET and backoff need.
#[derive(Debug, Clone)]
pub struct DueFeed {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub error_count: i64,
}

/// The feed due next: its name and when (`None`: never checked, due now).
pub type NextDue = (String, Option<DateTime<Utc>>);

/// What one poll of a feed taught us, written in one statement.
#[derive(Debug, Clone, Default)]
pub struct FetchRecord {
    pub fetched_at: DateTime<Utc>,
    pub status: Option<u16>,
    /// `None` on success (resets the error count); the error in words otherwise.
    pub error: Option<String>,
    /// New validators; `None` keeps the stored ones.
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub title: Option<String>,
    pub next_check_at: DateTime<Utc>,
    /// Article pages of this refresh that gave no usable text; `None` keeps the stored count.
    pub article_failures: Option<i64>,
    /// Items of this refresh recognised under a new guid; `None` keeps the stored count.
    pub reissued: Option<i64>,
    /// What was recovered in the document read (`None`: it was clean).
    pub warning: Option<String>,
    /// A document was read (not a 304, not a failure): `warning` replaces the stored one.
    pub read_document: bool,
    /// The article pages fetched in this refresh; `None` (none fetched) keeps the stored report.
    pub article_report: Option<ArticleReport>,
}

impl Store {
    /// Makes the feeds table follow the configuration: inserts new feeds, updates URL and
    /// language, and disables feeds no longer configured (their items stay).
    pub fn sync_feeds(
        &mut self,
        feeds: &[FeedConfig],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let tx = self.write()?;
        tx.execute("UPDATE feeds SET enabled = 0", [])?;
        for f in feeds {
            tx.prepare_cached(
                "INSERT INTO feeds (name, url, language, enabled, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(name) DO UPDATE SET
                   url = excluded.url, language = excluded.language, enabled = excluded.enabled,
                   etag = CASE WHEN feeds.url = excluded.url THEN feeds.etag END,
                   last_modified = CASE WHEN feeds.url = excluded.url THEN feeds.last_modified END",
            )?
            .execute(params![f.name, f.url.as_str(), f.language, f.enabled, now])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Enabled feeds whose next check is due at `now` (all enabled feeds when `all`), oldest first.
    pub fn due_feeds(&self, now: DateTime<Utc>, all: bool) -> Result<Vec<DueFeed>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, name, url, etag, last_modified, error_count FROM feeds
             WHERE enabled = 1 AND (?1 OR next_check_at IS NULL OR next_check_at <= ?2)
             ORDER BY next_check_at IS NOT NULL, next_check_at, name",
        )?;
        let rows = stmt.query_map(params![all, now], |r| {
            Ok(DueFeed {
                id: r.get(0)?,
                name: r.get(1)?,
                url: r.get(2)?,
                etag: r.get(3)?,
                last_modified: r.get(4)?,
                error_count: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// When the next enabled feed is due, if any feed is enabled (never-checked feeds are due now).
    pub fn next_due_at(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let (enabled, unchecked, earliest): (i64, i64, Option<DateTime<Utc>>) = self
            .conn
            .prepare_cached(
                "SELECT COUNT(*), COUNT(*) - COUNT(next_check_at), MIN(next_check_at)
             FROM feeds WHERE enabled = 1",
            )?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(match (enabled, unchecked) {
            (0, _) => None,
            (_, 0) => earliest,
            _ => Some(DateTime::<Utc>::MIN_UTC),
        })
    }

    /// The enabled feed due next and when (a never-checked feed is due now, `None` for its time).
    pub fn next_due_feed(&self) -> Result<Option<NextDue>, StoreError> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn
            .query_row(
                "SELECT name, next_check_at FROM feeds WHERE enabled = 1
                 ORDER BY next_check_at IS NOT NULL, next_check_at, name LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// Records the outcome of one fetch of a feed.
    pub fn record_fetch(&mut self, feed_id: i64, rec: &FetchRecord) -> Result<(), StoreError> {
        let ok = rec.error.is_none();
        // In a transaction of its own, so that its wait for the write lock is counted apart
        // (`Store::lock_waited`); one statement either way.
        let tx = self.write()?;
        tx.prepare_cached(
            "UPDATE feeds SET
               last_fetch_at = ?2, last_status = ?3, last_error = ?4,
               error_count = CASE WHEN ?5 THEN 0 ELSE error_count + 1 END,
               last_success_at = CASE WHEN ?5 THEN ?2 ELSE last_success_at END,
               etag = COALESCE(?6, etag), last_modified = COALESCE(?7, last_modified),
               title = COALESCE(?8, title), next_check_at = ?9,
               article_failures = COALESCE(?10, article_failures),
               reissued = COALESCE(?11, reissued),
               last_warning = CASE WHEN ?13 THEN ?12 ELSE last_warning END,
               article_report = COALESCE(?14, article_report)
             WHERE id = ?1",
        )?
        .execute(params![
            feed_id,
            rec.fetched_at,
            rec.status,
            rec.error,
            ok,
            rec.etag,
            rec.last_modified,
            rec.title,
            rec.next_check_at,
            rec.article_failures,
            rec.reissued,
            rec.warning,
            rec.read_document,
            rec.article_report
                .as_ref()
                .map(serde_json::to_string)
                .transpose()?
        ])?;
        tx.commit()?;
        Ok(())
    }

    /// All feeds with their health and item counts, by name.
    pub fn feeds(&self) -> Result<Vec<FeedRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT f.id, f.name, f.url, f.title, f.enabled, f.last_status, f.error_count, f.last_error,
                    f.last_fetch_at, f.last_success_at, f.next_check_at,
                    (SELECT COUNT(*) FROM item_sources s WHERE s.feed_id = f.id), f.article_failures,
                    f.reissued, f.last_warning, f.article_report
             FROM feeds f ORDER BY f.name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(FeedRow {
                id: r.get(0)?,
                name: r.get(1)?,
                url: r.get(2)?,
                title: r.get(3)?,
                enabled: r.get(4)?,
                last_status: r.get(5)?,
                error_count: r.get(6)?,
                last_error: r.get(7)?,
                last_fetch_at: r.get(8)?,
                last_success_at: r.get(9)?,
                next_check_at: r.get(10)?,
                item_count: r.get(11)?,
                article_failures: r.get(12)?,
                reissued: r.get(13)?,
                last_warning: r.get(14)?,
                // A report this version cannot read is left out, never fatal.
                article_report: r
                    .get::<_, Option<String>>(15)?
                    .and_then(|j| serde_json::from_str(&j).ok()),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records a batch of article pages fetched outside a refresh (`veille refetch`) as the
    /// feed's article report.
    pub fn set_article_report(
        &mut self,
        feed: &str,
        report: &ArticleReport,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE feeds SET article_report = ?2, article_failures = ?3 WHERE name = ?1",
            params![
                feed,
                serde_json::to_string(report)?,
                report.failed_pages() as i64
            ],
        )?;
        Ok(())
    }
}
