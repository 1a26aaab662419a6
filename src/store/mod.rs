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
pub use digests::{
    Candidate, Channel, DigestRow, NewDigest, NewWebhook, PendingDigest, PendingWebhook,
    WatchState, WebhookRow, WebhookState,
};
pub use feeds::{DueFeed, FetchRecord};
pub use items::{
    Article, Hashes, ItemFilter, NewItem, RetryItem, Seen, StoreReport, StoredMatch, StoredText,
    content_hash, source_hash,
};
pub use judgements::{Judgement, JudgementTotals, NewJudgement, Verdict};
pub use retention::{FileStats, PruneBatch, PruneCursor, Retention, guid_key, url_key};

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;

use crate::error::StoreError;

/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 64;

/// A handle on the database. Not shared between threads: each task opens its own or owns this.
pub struct Store {
    conn: Connection,
    /// The file and its identity when opened (`None` in memory).
    file: Option<FileIdentity>,
    /// How long this handle's write transactions waited for the write lock, in all (another
    /// connection held it: a retention batch, another process's poll).
    lock_waited: Duration,
}

/// Which file a store opened: its path and, on Unix, the device and inode it had then.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileIdentity {
    path: PathBuf,
    id: Option<(u64, u64)>,
}

fn identity(path: &Path) -> std::io::Result<Option<(u64, u64)>> {
    let meta = std::fs::metadata(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Ok(Some((meta.dev(), meta.ino())))
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        Ok(None)
    }
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
        let at = |e| match e {
            StoreError::Sql(source) => StoreError::Open {
                path: path.to_path_buf(),
                source,
            },
            other => other,
        };
        let mut store = Self::setup(conn).map_err(at)?;
        store.file = Some(FileIdentity {
            path: path.to_path_buf(),
            id: identity(path).ok().flatten(),
        });
        Ok(store)
    }

    /// Opens the database at `path` for reading only (no migrations, no writes), waiting at most
    /// `busy` for a lock: for a health endpoint that must answer while others write.
    pub fn open_read_only(path: &Path, busy: Duration) -> Result<Store, StoreError> {
        use rusqlite::OpenFlags;
        let open = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(open)?;
        conn.busy_timeout(busy).map_err(open)?;
        Ok(Store {
            conn,
            file: Some(FileIdentity {
                path: path.to_path_buf(),
                id: identity(path).ok().flatten(),
            }),
            lock_waited: Duration::ZERO,
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
        // A new file gives pages freed by retention back to the file system in steps
        // (`PRAGMA incremental_vacuum`); the mode can only be chosen before the first table.
        let fresh: bool =
            conn.query_row("SELECT COUNT(*) = 0 FROM sqlite_master", [], |r| r.get(0))?;
        if fresh {
            conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
        }
        // Room for every statement of the poll's write path and the web view's queries at once
        // (rusqlite keeps 16 by default; an evicted statement is parsed again on its next use).
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        // Plans that do not depend on the values bound: without this SQLite marks a statement
        // whose parameter is compared against a partial index's condition (`items_canonical_url`)
        // as expired at every new binding and parses it again, which undoes the cache above.
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Statement journals in memory: a statement that may fail halfway (a DELETE with its
        // cascades and triggers) journals every page it changes, and past 64 KiB SQLite spilled
        // that to a new file in /var/tmp, some 28 writes per pruned item (strace).
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        register_functions(&conn)?;
        migrate::apply(&mut conn)?;
        Ok(Store {
            conn,
            file: None,
            lock_waited: Duration::ZERO,
        })
    }

    /// The database file, `None` in memory.
    pub fn path(&self) -> Option<&Path> {
        self.file.as_ref().map(|f| f.path.as_path())
    }

    /// Checks that the file this store opened is still at its path: deleted or replaced (another
    /// inode), everything written from now on would go where nobody reads it, and a restart
    /// would mail stored items again. Cheap (one `stat`).
    pub fn check_file(&self) -> Result<(), StoreError> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        let gone = |replaced| StoreError::Gone {
            path: file.path.clone(),
            replaced,
        };
        match identity(&file.path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(gone(false)),
            Err(_) => Ok(()),
            Ok(now) if file.id.is_some() && now != file.id => Err(gone(true)),
            Ok(_) => Ok(()),
        }
    }

    /// Checks that the database can be written (it may be a read-only file, or on a read-only
    /// file system), so that a command that must write fails at once, naming the file.
    pub fn check_writable(&mut self) -> Result<(), StoreError> {
        let path = self.path().map(Path::to_path_buf);
        // A write that changes nothing, rolled back: refused on a read-only file or system.
        let probe = self.schema_version().map_err(|e| match e {
            StoreError::Sql(e) => e,
            _ => rusqlite::Error::InvalidQuery,
        });
        let probe = probe.and_then(|v| {
            self.conn.execute_batch(&format!(
                "BEGIN IMMEDIATE; PRAGMA user_version = {v}; ROLLBACK;"
            ))
        });
        match (probe, path) {
            (Ok(()), _) => Ok(()),
            (Err(source), Some(path)) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(StoreError::ReadOnly { path, source })
            }
            (Err(source), None) => Err(StoreError::Sql(source)),
        }
    }

    /// A write transaction that takes the write lock at once, waiting for it as long as the busy
    /// timeout allows: one that started as a read and then wrote would fail at once, without
    /// waiting, when another process holds the lock.
    /// The time it waited is added to [`Store::lock_waited`].
    fn write(&mut self) -> Result<rusqlite::Transaction<'_>, StoreError> {
        let asked = std::time::Instant::now();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate);
        self.lock_waited += asked.elapsed();
        Ok(tx?)
    }

    /// How long this handle's write transactions have waited for the write lock since it was
    /// opened (SQLite's busy handler: another connection held the lock). The difference across
    /// one call is what that call was blocked by other writers, apart from its own work.
    pub fn lock_waited(&self) -> Duration {
        self.lock_waited
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
/// `veille_fold(text)` folds text for the full-text index (see migration 0005) exactly as the
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
