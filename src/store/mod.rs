//! Storage: the only code that speaks SQL. One SQLite file in WAL mode, migrated at open.

mod backup;
mod browse;
mod digests;
mod feeds;
mod items;
mod judgements;
mod migrate;
mod packed;
mod retention;

pub use backup::{BackupError, BackupReport};
pub use browse::{
    Cursor, DigestRef, ItemDetail, ListedItem, MatchQuery, Page, SearchTerm, fts_expression,
};
pub use digests::{Candidate, CandidateMatch, DigestRow, NewDigest, PendingDigest, WatchState};
pub use feeds::{DueFeed, FetchRecord};
pub use items::{
    Article, ItemFilter, NewItem, Seen, StoreReport, StoredMatch, StoredText, content_hash,
};
pub use judgements::{Judgement, JudgementTotals, NewJudgement, Verdict};
pub use retention::{FileStats, PruneBatch, PruneCursor, Retention, guid_key, url_key};

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

use crate::error::StoreError;

/// A handle on the database. Not shared between threads: each task opens its own or owns this.
pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (creating when needed) the database at `path` and applies pending migrations.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let conn = Connection::open(path).map_err(|source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        Self::setup(conn).map_err(|e| match e {
            StoreError::Sql(source) => StoreError::Open {
                path: path.to_path_buf(),
                source,
            },
            other => other,
        })
    }

    /// An in-memory database, for tests and one-off commands.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        Self::setup(Connection::open_in_memory()?)
    }

    fn setup(mut conn: Connection) -> Result<Store, StoreError> {
        conn.busy_timeout(Duration::from_secs(10))?;
        // A new file gives pages freed by retention back to the file system in steps
        // (`PRAGMA incremental_vacuum`); the mode can only be chosen before the first table.
        let fresh: bool =
            conn.query_row("SELECT COUNT(*) = 0 FROM sqlite_master", [], |r| r.get(0))?;
        if fresh {
            conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
        }
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        register_functions(&conn)?;
        migrate::apply(&mut conn)?;
        Ok(Store { conn })
    }

    /// Hands the page cache's unused memory back (between polls of a long-running service).
    pub fn release_memory(&self) -> Result<(), StoreError> {
        Ok(self.conn.release_memory()?)
    }

    /// The schema version after migrations.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }
}

/// SQL functions the schema relies on, registered on every connection before migrating:
/// `veille_fold(text)` folds text for the full-text index (see migration 0004) exactly as the
/// classifier folds it, so search is blind to case and diacritics in all 24 EU languages;
/// `veille_text(x)` reads a text column that may be stored compressed (see `packed`).
fn register_functions(conn: &Connection) -> Result<(), StoreError> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function(
        "veille_text",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            packed::unpack(ctx.get_raw(0)).map_err(|e| rusqlite::Error::UserFunctionError(e.into()))
        },
    )?;
    conn.create_scalar_function(
        "veille_fold",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            Ok(ctx
                .get::<Option<String>>(0)?
                .map(|t| crate::pipeline::classify::fold::fold_str(&t)))
        },
    )?;
    Ok(())
}
