//! Backups: a consistent copy of the database, made with SQLite's online backup API while the
//! service goes on writing, checked, then moved into place.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

use super::Store;
use crate::error::StoreError;

/// Pages copied per step (16 MiB at 4 KiB pages); readers and writers go on between steps.
const PAGES_PER_STEP: i32 = 4096;
/// Pause between steps, so that a backup of a large file does not hog the disk.
const PAUSE: Duration = Duration::from_millis(5);

/// What a backup wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupReport {
    pub path: PathBuf,
    pub pages: i64,
    pub bytes: u64,
    pub items: i64,
    pub elapsed: Duration,
}

/// Why a backup was not made (the database itself is never touched).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackupError {
    #[error("{0} exists; give another file name, or --force to replace it")]
    Exists(PathBuf),
    #[error("cannot write the backup {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("backup to {path} failed: {source}")]
    Sql {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("the copy {path} failed its integrity check: {detail}")]
    Check { path: PathBuf, detail: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// Copies the database to `dest` as it is at the start of the copy (one read transaction
    /// holds that state while writers go on, so the copy never restarts and never mixes two
    /// states), checks the copy (`PRAGMA quick_check`), syncs it and renames it into place. The
    /// copy is written beside `dest` first: a failed or interrupted backup leaves no file at
    /// `dest`. An existing `dest` is replaced only with `replace`.
    pub fn backup_to(&self, dest: &Path, replace: bool) -> Result<BackupReport, BackupError> {
        self.backup_in_steps(dest, replace, PAGES_PER_STEP)
    }

    fn backup_in_steps(
        &self,
        dest: &Path,
        replace: bool,
        pages_per_step: i32,
    ) -> Result<BackupReport, BackupError> {
        let started = Instant::now();
        if dest.exists() && !replace {
            return Err(BackupError::Exists(dest.to_path_buf()));
        }
        let io = |source| BackupError::Io {
            path: dest.to_path_buf(),
            source,
        };
        let sql = |source| BackupError::Sql {
            path: dest.to_path_buf(),
            source,
        };
        if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "backup".into());
        let partial = dest.with_file_name(format!(".{name}.partial"));
        let _ = std::fs::remove_file(&partial);
        let result = (|| {
            let mut to = Connection::open(&partial).map_err(sql)?;
            // One snapshot for the whole copy: the read transaction stays open between steps.
            self.conn.execute_batch("BEGIN").map_err(sql)?;
            let copied = (|| {
                self.conn
                    .query_row("SELECT COUNT(*) FROM sqlite_master", [], |_| Ok(()))?;
                let backup = rusqlite::backup::Backup::new(&self.conn, &mut to)?;
                backup.run_to_completion(pages_per_step, PAUSE, None)?;
                Ok(backup.progress().pagecount as i64)
            })();
            let _ = self.conn.execute_batch("COMMIT");
            let pages = copied.map_err(sql)?;
            // The copy is a plain file: no write-ahead log beside it.
            to.pragma_update(None, "journal_mode", "DELETE")
                .map_err(sql)?;
            drop(to);
            let check = Connection::open_with_flags(&partial, OpenFlags::SQLITE_OPEN_READ_ONLY)
                .map_err(sql)?;
            let verdict: String = check
                .query_row("PRAGMA quick_check", [], |r| r.get(0))
                .map_err(sql)?;
            if verdict != "ok" {
                return Err(BackupError::Check {
                    path: dest.to_path_buf(),
                    detail: verdict,
                });
            }
            let items: i64 = check
                .query_row("SELECT COUNT(*) FROM items", [], |r| r.get(0))
                .map_err(sql)?;
            drop(check);
            std::fs::File::open(&partial)
                .and_then(|f| f.sync_all())
                .map_err(io)?;
            std::fs::rename(&partial, dest).map_err(io)?;
            let bytes = std::fs::metadata(dest).map_err(io)?.len();
            Ok(BackupReport {
                path: dest.to_path_buf(),
                pages,
                bytes,
                items,
                elapsed: started.elapsed(),
            })
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&partial);
            let _ = std::fs::remove_file(partial.with_extension("partial-journal"));
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ParsedItem;
    use crate::store::NewItem;
    use std::sync::atomic::{AtomicBool, Ordering};

    fn batch(from: usize, n: usize) -> Vec<NewItem> {
        (from..from + n)
            .map(|i| NewItem {
                parsed: ParsedItem {
                    guid: format!("g{i}"),
                    title: format!("item {i}"),
                    text: format!("text of item {i} ").repeat(40),
                    ..ParsedItem::default()
                },
                ..NewItem::default()
            })
            .collect()
    }

    fn counts(path: &Path) -> (i64, i64, i64) {
        let c = Connection::open(path).unwrap();
        let q = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
        (
            q("SELECT COUNT(*) FROM items"),
            q("SELECT COUNT(*) FROM item_sources"),
            q("SELECT COUNT(*) FROM items_fts WHERE items_fts MATCH 'text'"),
        )
    }

    #[test]
    fn a_backup_made_while_another_connection_writes_is_one_consistent_state() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("v.db");
        let mut s = Store::open(&db).unwrap();
        let feed = crate::config::FeedConfig::for_tests(
            "f",
            "https://x.eu/rss",
            crate::config::FetchArticle::Never,
        );
        s.sync_feeds(&[feed], chrono::Utc::now()).unwrap();
        for k in 0..10 {
            s.store_items(1, &batch(k * 100, 100), chrono::Utc::now())
                .unwrap();
        }
        let stop = AtomicBool::new(false);
        let written = std::thread::scope(|scope| {
            let writer = scope.spawn(|| {
                let mut w = Store::open(&db).unwrap();
                let mut next = 1000;
                while !stop.load(Ordering::Relaxed) {
                    w.store_items(1, &batch(next, 20), chrono::Utc::now())
                        .unwrap();
                    next += 20;
                }
                next
            });
            let dest = dir.path().join("copy.db");
            // a few pages per step: the writer commits many times during the copy
            let r = s.backup_in_steps(&dest, false, 8).unwrap();
            stop.store(true, Ordering::Relaxed);
            let written = writer.join().unwrap();
            let (items, sources, indexed) = counts(&dest);
            assert_eq!(r.items, items);
            assert!(
                items >= 1000 && (items as usize) < written,
                "{items} of {written}"
            );
            assert_eq!((sources, indexed), (items, items), "one state, not a mix");
            written
        });
        assert!(written > 1000, "the writer went on during the backup");
        assert!(matches!(
            s.backup_to(&dir.path().join("copy.db"), false),
            Err(BackupError::Exists(_))
        ));
        let again = s.backup_to(&dir.path().join("copy.db"), true).unwrap();
        assert_eq!(again.items as usize, written);
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("partial"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
}
