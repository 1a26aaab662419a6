//! Retention, run once a day by `veille run` and on demand by `veille prune`: prunes old items in
//! small transactions with pauses between them (so polls and digests take the write lock
//! meanwhile and wait for at most one batch), expires old tombstones, merges the search index,
//! then gives the freed pages back to the file system (incremental vacuum) and checkpoints.
//!
//! Every write transaction is bounded by a time budget ([`BUDGET`]): a prune batch stops
//! deleting when it is spent and commits (the next batch carries on from the last item handled),
//! and the steps of the other kinds are sized by what the last one took ([`StepSize`]: halved
//! after a step over the budget). The report keeps the longest transaction of each kind.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::store::{PruneCursor, Retention, Store};

/// Items looked at per transaction (at most: a batch stops when [`BUDGET`] is spent).
pub const BATCH_SCAN: usize = 500;
/// How long one retention transaction may work while it holds the write lock: a poll waiting
/// behind it waits this long, plus the commit (which writes what the work changed), plus up to
/// 100 ms of its busy handler's sleep. Measured on a simulated year (docs/performance.md): at
/// 250 ms, commits took up to 330 ms and a poll waited up to 1.4 s; at 100 ms, 0.8 s and 1.9 s
/// in two runs (one item's delete, which the budget cannot split, took up to 0.4 s).
pub const BUDGET: Duration = Duration::from_millis(100);
/// The least pause between two transactions. A writer waiting for the lock sleeps at most 100 ms
/// between tries (SQLite's busy handler), so a pause at least that long lets it in.
pub const PAUSE: Duration = Duration::from_millis(100);
/// Tombstones removed per transaction, at most (adapted to [`BUDGET`]).
pub const TOMBSTONE_BATCH: usize = 5_000;
/// Free pages given back per transaction, at most (4 MiB at 4 KiB pages; adapted to [`BUDGET`]).
pub const VACUUM_PAGES: usize = 1_024;
/// Pages merged per step of the search index, at most (adapted to [`BUDGET`]).
pub const MERGE_PAGES: usize = 256;
/// The least a step of any kind is shrunk to.
pub const MIN_STEP: usize = 8;
/// How often the service prunes.
pub const EVERY: Duration = Duration::from_secs(24 * 3600);
/// How often a long run logs how far it has got (a year's prune takes tens of minutes).
pub const PROGRESS_EVERY: Duration = Duration::from_secs(30);

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
    /// Search index merge transactions.
    pub merge_steps: usize,
    /// Prune batches that stopped because the time budget was spent (the next carried on).
    pub batches_cut_short: usize,
    /// The longest a prune batch held the write lock (its commit included).
    pub longest_batch: Duration,
    /// The longest time one item took to prune, inside its batch.
    pub slowest_item: Duration,
    /// The longest commit of a prune batch.
    pub longest_commit: Duration,
    /// The longest tombstone expiry transaction.
    pub longest_expiry: Duration,
    /// The longest search index merge step.
    pub longest_merge: Duration,
    /// The longest incremental vacuum step.
    pub longest_vacuum: Duration,
    /// The checkpoint at the end.
    pub checkpoint: Duration,
    /// Pages of the last vacuum step and of the last merge step (where their sizes settled).
    pub vacuum_pages: usize,
    pub merge_pages: usize,
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
    /// The stage a run is in, by what it has done so far: each stage's steps follow the last's.
    pub fn stage(&self) -> &'static str {
        if self.vacuum_steps > 0 {
            "vacuum"
        } else if self.merge_steps > 0 {
            "search index merge"
        } else if self.tombstones_expired > 0 {
            "tombstone expiry"
        } else {
            "prune"
        }
    }

    pub fn pruned(&self) -> usize {
        self.unmatched + self.matched
    }

    /// The longest write transaction of any kind.
    pub fn longest_transaction(&self) -> Duration {
        [
            self.longest_batch,
            self.longest_expiry,
            self.longest_merge,
            self.longest_vacuum,
        ]
        .into_iter()
        .max()
        .unwrap_or_default()
    }
}

/// What bounds the transactions of a run: [`Limits::default`] is the constants above; tests
/// give other budgets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub budget: Duration,
    pub scan: usize,
    pub tombstones: usize,
    pub vacuum_pages: usize,
    pub merge_pages: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            budget: BUDGET,
            scan: BATCH_SCAN,
            tombstones: TOMBSTONE_BATCH,
            vacuum_pages: VACUUM_PAGES,
            merge_pages: MERGE_PAGES,
        }
    }
}

/// The size of the next step of one kind (pages, rows): halved (down to [`MIN_STEP`]) after a
/// step that took longer than the budget, doubled back (up to where it started) after one that
/// took less than a quarter of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepSize {
    size: usize,
    max: usize,
}

impl StepSize {
    pub fn new(max: usize) -> Self {
        let max = max.max(1);
        StepSize { size: max, max }
    }

    pub fn get(&self) -> usize {
        self.size
    }

    /// Sizes the next step by what the last one took.
    pub fn after(&mut self, took: Duration, budget: Duration) {
        if took > budget {
            self.size = (self.size / 2).max(MIN_STEP.min(self.max));
        } else if took < budget / 4 {
            self.size = self.size.saturating_mul(2).min(self.max);
        }
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
    run_with(store, retention, now, dry_run, stop, &Limits::default())
}

/// [`run`] with other limits.
pub fn run_with(
    store: &mut Store,
    retention: &Retention,
    now: DateTime<Utc>,
    dry_run: bool,
    stop: &AtomicBool,
    limits: &Limits,
) -> Result<Report, StoreError> {
    let budget = limits.budget;
    let started = Instant::now();
    let before = store.file_stats()?;
    let mut report = Report {
        dry_run,
        bytes_before: before.bytes(),
        cannot_shrink: !before.incremental(),
        ..Report::default()
    };
    let stopped = || stop.load(Ordering::Relaxed);
    let shown = Cell::new(started);

    // 1. Prune, one batch at a time.
    let mut cursor = PruneCursor::default();
    loop {
        if stopped() {
            report.interrupted = true;
            break;
        }
        let t = Instant::now();
        let b = store.prune_batch(retention, now, &mut cursor, limits.scan, budget, dry_run)?;
        let took = t.elapsed();
        report.batches += 1;
        report.batches_cut_short += usize::from(b.cut_short);
        report.longest_batch = report.longest_batch.max(b.held);
        report.slowest_item = report.slowest_item.max(b.slowest_item);
        report.longest_commit = report.longest_commit.max(b.commit);
        if b.held > budget {
            tracing::debug!(
                elapsed_ms = took.as_millis() as u64,
                held_ms = b.held.as_millis() as u64,
                commit_ms = b.commit.as_millis() as u64,
                scanned = b.scanned,
                pruned = b.unmatched + b.matched,
                slowest_item_ms = b.slowest_item.as_millis() as u64,
                "prune batch over its budget"
            );
        }
        report.scanned += b.scanned;
        report.unmatched += b.unmatched;
        report.matched += b.matched;
        report.kept += b.kept;
        report.tombstones += b.tombstones;
        if b.done {
            break;
        }
        if !dry_run && b.unmatched + b.matched > 0 {
            pause(&mut report, b.held, &shown);
        }
    }

    if !dry_run && !report.interrupted {
        // 2. Tombstones not seen again for the retention period.
        let steps = Steps {
            stop,
            budget,
            shown: &shown,
        };
        steps.run(&mut report, limits.tombstones, |report, asked, took| {
            let n = store.expire_tombstones(retention, now, asked)?;
            report.tombstones_expired += n;
            report.longest_expiry = report.longest_expiry.max(took());
            Ok(n >= asked)
        })?;
        // 3. Merge the search index, which drops deleted items' entries for good. Deleting
        // them above only marked them deleted (FTS5's `deletemerge` is off but in these steps),
        // so this merges until nothing is left to merge: as much work as the deletes did
        // themselves before, in steps bounded by the budget.
        if report.pruned() > 0 {
            steps.run(&mut report, limits.merge_pages, |report, pages, took| {
                let more = store.search_index_merge_step(pages)?;
                report.merge_steps += 1;
                report.merge_pages = pages;
                report.longest_merge = report.longest_merge.max(took());
                Ok(more)
            })?;
        }
        // 4. Give free pages back, a step a transaction, until none is left or as many pages
        // as were free when this step began were given back (polls meanwhile free pages too:
        // they are for the next run).
        if !report.cannot_shrink {
            let free = store.file_stats()?.free_pages;
            if free > 0 {
                let mut back = 0;
                steps.run(&mut report, limits.vacuum_pages, |report, pages, took| {
                    // A step stops early once the budget is spent: it counts what it gave back.
                    let (given, left) = store.vacuum_step(pages, budget)?;
                    report.vacuum_steps += 1;
                    report.vacuum_pages = pages;
                    report.longest_vacuum = report.longest_vacuum.max(took());
                    back += given.max(1);
                    Ok(vacuum_goes_on(free, back, left))
                })?;
            }
        }
        let t = Instant::now();
        store.checkpoint()?;
        report.checkpoint = t.elapsed();
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
        merge_steps = report.merge_steps,
        batches_cut_short = report.batches_cut_short,
        longest_batch_ms = report.longest_batch.as_millis() as u64,
        slowest_item_ms = report.slowest_item.as_millis() as u64,
        longest_commit_ms = report.longest_commit.as_millis() as u64,
        longest_expiry_ms = report.longest_expiry.as_millis() as u64,
        longest_merge_ms = report.longest_merge.as_millis() as u64,
        longest_vacuum_ms = report.longest_vacuum.as_millis() as u64,
        checkpoint_ms = report.checkpoint.as_millis() as u64,
        bytes_before = report.bytes_before,
        bytes_after = report.bytes_after,
        interrupted = report.interrupted,
        elapsed_ms = report.elapsed.as_millis() as u64,
        "retention finished"
    );
    Ok(report)
}

/// What every step after pruning shares: the flag that stops the run, each transaction's
/// time budget and when progress was last logged.
struct Steps<'a> {
    stop: &'a AtomicBool,
    budget: Duration,
    shown: &'a Cell<Instant>,
}

impl Steps<'_> {
    /// Runs one kind of step, each in its own transaction, until `step` says none is left or
    /// `stop` is set (the report is then marked interrupted): `step` gets the size to take (rows
    /// or pages, at most `max`, shrunk and grown back by [`StepSize`] to keep each step within
    /// the budget) and a clock of the step's time so far, records what it did, and says whether
    /// to go on. A pause follows every step but the last.
    fn run(
        &self,
        report: &mut Report,
        max: usize,
        mut step: impl FnMut(&mut Report, usize, &dyn Fn() -> Duration) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        let mut size = StepSize::new(max);
        loop {
            if self.stop.load(Ordering::Relaxed) {
                report.interrupted = true;
                return Ok(());
            }
            let t = Instant::now();
            let more = step(report, size.get(), &|| t.elapsed())?;
            let took = t.elapsed();
            if !more {
                return Ok(());
            }
            size.after(took, self.budget);
            pause(report, took, self.shown);
        }
    }
}

/// Sleeps between two transactions: at least [`PAUSE`], and at least as long as the last one
/// took, so retention never holds the write lock more than half the time. Logs how far the run
/// has got when [`PROGRESS_EVERY`] has passed since `shown`.
fn pause(report: &mut Report, took: Duration, shown: &Cell<Instant>) {
    report.pauses += 1;
    if shown.get().elapsed() >= PROGRESS_EVERY {
        shown.set(Instant::now());
        tracing::info!(
            stage = report.stage(),
            scanned = report.scanned,
            pruned = report.pruned(),
            tombstones_expired = report.tombstones_expired,
            merge_steps = report.merge_steps,
            vacuum_steps = report.vacuum_steps,
            "retention under way"
        );
    }
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

/// Whether the vacuum goes on after a step: pages are left free and fewer pages were given back
/// (`back`, at least one a step) than were free when it began (`free`). Not "while a step leaves fewer free pages than the step
/// before": polls beside it free pages too (an item's texts replaced, the search index merged),
/// and a step's net change of zero or less ended the run with most of the file still free.
fn vacuum_goes_on(free: i64, back: i64, left: i64) -> bool {
    left > 0 && back < free
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    /// Regression (issue 18, a year of 1,095,000 items at 3,000 a day): after a prune of 510,688
    /// items, the vacuum stopped after 61 steps with 2,244 MiB still free inside the file, as
    /// polls beside it freed as many pages as a step gave back. It now goes on until it has
    /// given back the pages free when it began, and stops at that bound even if none comes back.
    #[test]
    fn the_vacuum_goes_on_while_polls_free_pages_beside_it_and_stops_at_what_was_free() {
        // 10,000 pages free; each step of 300 gives 300 back while polls free 300 more.
        let (free, mut left, mut asked, mut steps) = (10_000, 10_000, 0, 0);
        let (given_back, freed_by_polls) = (300, 300);
        loop {
            left = left - given_back + freed_by_polls;
            asked += 300;
            steps += 1;
            if !vacuum_goes_on(free, asked, left) {
                break;
            }
        }
        assert_eq!(steps, 34, "ceil(10,000 / 300) steps");
        // Nothing left free: done at once.
        assert!(!vacuum_goes_on(10_000, 300, 0));
        // A step that gives nothing back still ends the run at the bound.
        assert!(vacuum_goes_on(10_000, 9_900, 10_000));
        assert!(!vacuum_goes_on(10_000, 10_000, 10_000));
    }

    /// The tombstone, merge and vacuum runs share one loop: it stops where the step says, pauses
    /// between steps only, sizes each by the last one's time, and stops before a step once asked.
    #[test]
    fn steps_go_on_until_done_pause_between_and_stop_before_a_step_when_asked() {
        let mut report = Report::default();
        let stop = AtomicBool::new(false);
        let mut sizes = Vec::new();
        let shown = Cell::new(Instant::now());
        let steps = Steps {
            stop: &stop,
            budget: Duration::ZERO,
            shown: &shown,
        };
        // Each step "takes" its clock's time; the budget is 0, so every step is over it.
        steps
            .run(&mut report, 64, |_, n, took| {
                assert!(took() < Duration::from_secs(5));
                sizes.push(n);
                Ok(sizes.len() < 3)
            })
            .unwrap();
        assert_eq!(sizes, [64, 32, 16]);
        assert_eq!(report.pauses, 2);
        assert!(!report.interrupted);

        let err = steps.run(&mut report, 64, |_, _, _| {
            Err(StoreError::Sql(rusqlite::Error::InvalidQuery))
        });
        assert!(err.is_err());
        assert_eq!(report.pauses, 2);

        stop.store(true, Ordering::Relaxed);
        let mut called = false;
        steps
            .run(&mut report, 64, |_, _, _| {
                called = true;
                Ok(true)
            })
            .unwrap();
        assert!(!called);
        assert!(report.interrupted);
        assert_eq!(report.pauses, 2);
    }

    /// A year's prune runs for tens of minutes: a pause logs how far it has got once
    /// [`PROGRESS_EVERY`] has passed since the last time, and not before; the stage named is the
    /// latest one that has taken a step.
    #[test]
    fn a_long_run_logs_its_progress_every_so_often_naming_its_stage() {
        let mut report = Report::default();
        assert_eq!(report.stage(), "prune");
        let just_now = Instant::now();
        let shown = Cell::new(just_now);
        pause(&mut report, Duration::ZERO, &shown);
        assert_eq!(
            shown.get(),
            just_now,
            "logged before PROGRESS_EVERY had passed"
        );
        let long_ago = Instant::now()
            .checked_sub(PROGRESS_EVERY + Duration::from_secs(1))
            .unwrap();
        shown.set(long_ago);
        pause(&mut report, Duration::ZERO, &shown);
        assert!(shown.get() > long_ago, "not logged after PROGRESS_EVERY");
        assert_eq!(report.pauses, 2);

        report.tombstones_expired = 3;
        assert_eq!(report.stage(), "tombstone expiry");
        report.merge_steps = 1;
        assert_eq!(report.stage(), "search index merge");
        report.vacuum_steps = 1;
        assert_eq!(report.stage(), "vacuum");
    }

    /// Issue 18: a vacuum step of 1,024 pages could hold the write lock longer than a poll
    /// should wait; the step is halved after one over the budget and grows back after quick ones.
    #[test]
    fn a_step_over_the_budget_is_halved_down_to_the_least_and_grows_back_up_to_the_most() {
        let budget = 250 * MS;
        let mut s = StepSize::new(1_024);
        s.after(300 * MS, budget);
        assert_eq!(s.get(), 512);
        s.after(200 * MS, budget);
        assert_eq!(s.get(), 512, "within the budget, not quick: kept");
        for _ in 0..20 {
            s.after(900 * MS, budget);
        }
        assert_eq!(s.get(), MIN_STEP);
        s.after(10 * MS, budget);
        assert_eq!(s.get(), 2 * MIN_STEP);
        for _ in 0..20 {
            s.after(MS, budget);
        }
        assert_eq!(s.get(), 1_024, "never past where it started");
        let mut tiny = StepSize::new(3);
        tiny.after(900 * MS, budget);
        assert_eq!(tiny.get(), 3, "never under the least, nor over the most");
    }
}
