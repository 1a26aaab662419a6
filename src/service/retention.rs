//! Retention, run once a day by `veille run` and on demand by `veille prune`: prunes old items in
//! small transactions with pauses between them (so polls and digests take the write lock
//! meanwhile and wait for at most one batch), expires old tombstones, merges the search index,
//! then gives the freed pages back to the file system (incremental vacuum) and checkpoints.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::store::{PruneCursor, Retention, Store};

/// Items looked at per transaction.
pub const BATCH_SCAN: usize = 500;
/// The least pause between two transactions. A writer waiting for the lock sleeps at most 100 ms
/// between tries (SQLite's busy handler), so a pause at least that long lets it in.
pub const PAUSE: Duration = Duration::from_millis(100);
/// Tombstones removed per transaction.
pub const TOMBSTONE_BATCH: usize = 5_000;
/// Free pages given back per transaction (4 MiB at 4 KiB pages).
pub const VACUUM_PAGES: usize = 1_024;
/// Pages merged per step of the search index.
pub const MERGE_PAGES: usize = 256;
/// At most this many merge steps per run (the rest waits for the next day).
pub const MERGE_STEPS: usize = 200;
/// How often the service prunes.
pub const EVERY: Duration = Duration::from_secs(24 * 3600);

/// What one run did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    pub dry_run: bool,
    pub scanned: usize,
    /// Items that matched no topic, pruned.
    pub unmatched: usize,
    /// Items that matched a topic, pruned (`keep_matches`).
    pub matched: usize,
    /// Old enough, but judged or carried by a digest: kept.
    pub kept: usize,
    pub tombstones: usize,
    pub tombstones_expired: usize,
    pub batches: usize,
    /// Pauses taken between transactions (none when there was nothing to do).
    pub pauses: usize,
    /// Incremental vacuum transactions.
    pub vacuum_steps: usize,
    /// The longest prune transaction.
    pub longest_batch: Duration,
    pub bytes_before: i64,
    pub bytes_after: i64,
    /// Free pages left in the file (space reused by new rows, not given back).
    pub free_bytes_after: i64,
    /// The file is not in incremental vacuum mode: freed pages are reused, the file keeps its size.
    pub cannot_shrink: bool,
    /// Stopped before the end (shutdown).
    pub interrupted: bool,
    pub elapsed: Duration,
}

impl Report {
    pub fn pruned(&self) -> usize {
        self.unmatched + self.matched
    }
}

/// Runs retention over `store` to the end (or until `stop` is set): pruning, tombstones,
/// search index, vacuum. A dry run only counts, writing nothing.
pub fn run(
    store: &mut Store,
    retention: &Retention,
    now: DateTime<Utc>,
    dry_run: bool,
    stop: &AtomicBool,
) -> Result<Report, StoreError> {
    let started = Instant::now();
    let before = store.file_stats()?;
    let mut report = Report {
        dry_run,
        bytes_before: before.bytes(),
        cannot_shrink: !before.incremental(),
        ..Report::default()
    };
    let stopped = || stop.load(Ordering::Relaxed);

    // 1. Prune, one batch at a time.
    let mut cursor = PruneCursor::default();
    loop {
        if stopped() {
            report.interrupted = true;
            break;
        }
        let t = Instant::now();
        let b = store.prune_batch(retention, now, &mut cursor, BATCH_SCAN, dry_run)?;
        let took = t.elapsed();
        report.batches += 1;
        report.longest_batch = report.longest_batch.max(took);
        report.scanned += b.scanned;
        report.unmatched += b.unmatched;
        report.matched += b.matched;
        report.kept += b.kept;
        report.tombstones += b.tombstones;
        if b.done {
            break;
        }
        if !dry_run && b.unmatched + b.matched > 0 {
            pause(&mut report, took);
        }
    }

    if !dry_run && !report.interrupted {
        // 2. Tombstones not seen again for the retention period.
        loop {
            if stopped() {
                report.interrupted = true;
                break;
            }
            let t = Instant::now();
            let n = store.expire_tombstones(retention, now, TOMBSTONE_BATCH)?;
            report.tombstones_expired += n;
            if n < TOMBSTONE_BATCH {
                break;
            }
            pause(&mut report, t.elapsed());
        }
        // 3. Merge the search index, which drops deleted items' entries for good.
        if report.pruned() > 0 {
            for _ in 0..MERGE_STEPS {
                if stopped() {
                    report.interrupted = true;
                    break;
                }
                let t = Instant::now();
                if !store.search_index_merge_step(MERGE_PAGES)? {
                    break;
                }
                pause(&mut report, t.elapsed());
            }
        }
        // 4. Give free pages back, [`VACUUM_PAGES`] a transaction, until none is left or a step
        // gave nothing back (polls meanwhile free pages too: they are for the next run).
        if !report.cannot_shrink {
            let mut free = store.file_stats()?.free_pages;
            while free > 0 {
                if stopped() {
                    report.interrupted = true;
                    break;
                }
                let t = Instant::now();
                let left = store.vacuum_step(VACUUM_PAGES)?;
                report.vacuum_steps += 1;
                if left == 0 || left >= free {
                    break;
                }
                free = left;
                pause(&mut report, t.elapsed());
            }
        }
        store.checkpoint()?;
        if !report.interrupted {
            store.set_last_prune(now)?;
        }
    }
    let after = store.file_stats()?;
    report.bytes_after = after.bytes();
    report.free_bytes_after = after.free_bytes();
    report.elapsed = started.elapsed();
    tracing::info!(
        dry_run,
        scanned = report.scanned,
        pruned_unmatched = report.unmatched,
        pruned_matched = report.matched,
        kept = report.kept,
        tombstones = report.tombstones,
        tombstones_expired = report.tombstones_expired,
        batches = report.batches,
        pauses = report.pauses,
        vacuum_steps = report.vacuum_steps,
        longest_batch_ms = report.longest_batch.as_millis() as u64,
        bytes_before = report.bytes_before,
        bytes_after = report.bytes_after,
        interrupted = report.interrupted,
        elapsed_ms = report.elapsed.as_millis() as u64,
        "retention finished"
    );
    Ok(report)
}

/// Sleeps between two transactions: at least [`PAUSE`], and at least as long as the last one
/// took, so retention never holds the write lock more than half the time.
fn pause(report: &mut Report, took: Duration) {
    report.pauses += 1;
    std::thread::sleep(PAUSE.max(took));
}

/// When retention is next due: [`EVERY`] after it last ran to the end, else now.
pub fn next_run(last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> DateTime<Utc> {
    match last {
        Some(l) => {
            (l + chrono::Duration::from_std(EVERY).unwrap_or(chrono::Duration::MAX)).max(now)
        }
        None => now,
    }
}
