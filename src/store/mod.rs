//! Storage: the only code that speaks SQL. One SQLite file in WAL mode, migrated at open.

mod detail;
mod digests;
mod feeds;
mod items;
mod migrate;

pub use detail::{DigestRef, ItemDetail};
pub use digests::{Candidate, CandidateMatch, DigestRow, NewDigest, PendingDigest, WatchState};
pub use feeds::{DueFeed, FetchRecord};
pub use items::{
    Article, ItemFilter, NewItem, RetryItem, Seen, StoreReport, StoredMatch, StoredText,
    content_hash,
};

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

    /// Opens the database at `path` if it exists (applying pending migrations); `None` when
    /// there is no file yet. For commands that only read: they must not create a database.
    pub fn open_existing(path: &Path) -> Result<Option<Store>, StoreError> {
        if !path.exists() {
            return Ok(None);
        }
        Self::open(path).map(Some)
    }

    /// An in-memory database, for tests and one-off commands.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        Self::setup(Connection::open_in_memory()?)
    }

    fn setup(mut conn: Connection) -> Result<Store, StoreError> {
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
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
