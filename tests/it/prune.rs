//! Retention on a real SQLite file: what a prune with nothing to delete costs.

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use chrono::Utc;
use veille::model::ParsedItem;
use veille::service::retention::{self, Limits, MIN_STEP, VACUUM_PAGES};
use veille::store::{NewItem, Retention, Store};

/// Words from a small generator: text that compresses about as much as prose.
fn words(seed: u64, n: usize) -> String {
    let mut x = seed.max(1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            format!("w{:x}", x % 100_000)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// An item `guid` at `https://news.example/{i}` whose text is `words_n` words.
fn item(guid: String, i: u64, words_n: usize) -> NewItem {
    NewItem {
        parsed: ParsedItem {
            guid,
            url: Some(format!("https://news.example/{i}")),
            canonical_url: Some(format!("https://news.example/{i}")),
            title: format!("item {i}"),
            text: words(i + 1, words_n),
            ..ParsedItem::default()
        },
        ..NewItem::default()
    }
}

/// Stores `n` items (`old0`, `old1`, …) of `words_n` words in `feed`, 200 days before `now`:
/// older than a retention of 180 days.
fn store_old_items(
    store: &mut Store,
    feed: i64,
    now: chrono::DateTime<Utc>,
    n: u64,
    words_n: usize,
) {
    let old: Vec<NewItem> = (0..n)
        .map(|i| item(format!("old{i}"), i, words_n))
        .collect();
    store
        .store_items(feed, &old, now - chrono::Duration::days(200))
        .unwrap();
}

/// A new store at `db` with one feed configured: the store, the feed's id and the time it was
/// synced.
fn store_with_one_feed(db: &std::path::Path) -> (Store, i64, chrono::DateTime<Utc>) {
    let mut store = Store::open(db).unwrap();
    let feed = veille::config::FeedConfig {
        name: "f".into(),
        url: url::Url::parse("https://news.example/f.xml").unwrap(),
        every: Duration::from_secs(3600),
        language: None,
        enabled: true,
        fetch_article: veille::config::FetchArticle::Never,
        content_selector: None,
        remove_selectors: Vec::new(),
        source: Default::default(),
    };
    let now = Utc::now();
    store.sync_feeds(&[feed], now).unwrap();
    let id = store.feeds().unwrap()[0].id;
    (store, id, now)
}

/// Regression: a `veille prune` with nothing to delete ran 240 s of wall time on 0.5 s of CPU.
/// Its incremental vacuum gave back one free page per transaction (the pragma was stepped
/// once) and paused 100 ms after each, so the few thousand pages a file frees in ordinary use
/// (updated rows, search index merges) took minutes. Now: no pause when nothing is pruned, and
/// one vacuum transaction per [`VACUUM_PAGES`] free pages.
#[test]
fn a_prune_with_nothing_to_delete_takes_no_pause_and_vacuums_a_thousand_pages_a_step() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("veille.db");
    let (mut store, id, now) = store_with_one_feed(&db);
    let items: Vec<NewItem> = (0..1_500).map(|i| item(format!("g{i}"), i, 900)).collect();
    store.store_items(id, &items, now).unwrap();
    drop(store);
    // Space freed by ordinary use, not by retention: these items are recent.
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("PRAGMA foreign_keys = ON; DELETE FROM items;")
        .unwrap();

    let mut store = Store::open(&db).unwrap();
    let free = store.file_stats().unwrap().free_pages;
    assert!(
        free > VACUUM_PAGES as i64,
        "the test needs more than one vacuum step of free pages: {free}"
    );
    let keep = Retention {
        keep_items: Some(Duration::from_secs(180 * 86_400)),
        keep_matches: None,
    };
    let stop = AtomicBool::new(false);
    // No time budget: on a loaded machine a step over the default one would be halved.
    let unbounded = Limits {
        budget: Duration::MAX,
        ..Limits::default()
    };
    let r = retention::run_with(&mut store, &keep, now, false, &stop, &unbounded).unwrap();
    let steps = (free as usize).div_ceil(VACUUM_PAGES);
    assert_eq!((r.pruned(), r.batches), (0, 1), "{r:?}");
    assert_eq!(r.vacuum_steps, steps, "{free} free pages: {r:?}");
    assert_eq!(
        r.pauses,
        steps - 1,
        "a pause only between vacuum steps: {r:?}"
    );
    assert_eq!(r.free_bytes_after, 0, "{r:?}");

    // Nothing pruned, nothing free: not one pause, not one vacuum transaction.
    let r = retention::run_with(&mut store, &keep, now, false, &stop, &unbounded).unwrap();
    assert_eq!(
        (r.pruned(), r.batches, r.pauses, r.vacuum_steps),
        (0, 1, 0, 0),
        "{r:?}"
    );
}

/// Issue 18: polls waited up to 3.8 s behind retention's transactions. With no time budget at
/// all, a run still prunes everything and gives every free page back, but in the smallest
/// steps: one item a prune batch, vacuum steps halved down to the least.
#[test]
fn with_no_time_budget_a_run_prunes_an_item_a_batch_and_shrinks_its_vacuum_steps() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("veille.db");
    let (mut store, id, now) = store_with_one_feed(&db);
    store_old_items(&mut store, id, now, 12, 50);
    let recent: Vec<NewItem> = (100..250)
        .map(|i| item(format!("recent{i}"), i, 900))
        .collect();
    store.store_items(id, &recent, now).unwrap();
    drop(store);
    // Free pages for the vacuum: recent items deleted by hand.
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("PRAGMA foreign_keys = ON; DELETE FROM items WHERE guid LIKE 'recent%';")
        .unwrap();

    let mut store = Store::open(&db).unwrap();
    let free = store.file_stats().unwrap().free_pages as usize;
    let limits = Limits {
        budget: Duration::ZERO,
        vacuum_pages: 32,
        merge_pages: 32,
        ..Limits::default()
    };
    assert!(free > 4 * 32, "the test needs free pages: {free}");
    let keep = Retention {
        keep_items: Some(Duration::from_secs(180 * 86_400)),
        keep_matches: None,
    };
    let stop = AtomicBool::new(false);
    let r = retention::run_with(&mut store, &keep, now, false, &stop, &limits).unwrap();
    assert_eq!(r.pruned(), 12, "{r:?}");
    assert_eq!((r.batches, r.batches_cut_short), (12, 11), "{r:?}");
    assert_eq!(store.item_count().unwrap(), 0);
    assert_eq!(r.vacuum_pages, MIN_STEP, "halved down to the least: {r:?}");
    assert!(
        r.vacuum_steps > free / 32 + 3,
        "{free} free pages in more steps than at 32 pages a step: {r:?}"
    );
    assert_eq!(r.free_bytes_after, 0, "every page given back: {r:?}");
    assert!(r.longest_vacuum > Duration::ZERO && r.longest_batch > Duration::ZERO);
}

/// A first prune of a year's database runs for hours: Ctrl-C or SIGTERM stops `veille prune`
/// between two transactions, with its report and exit code 130, instead of killing it with its
/// report; what it pruned stays pruned, and the next run goes on to the end.
#[test]
fn a_prune_stopped_by_sigterm_ends_between_transactions_and_the_next_run_finishes() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("veille.db");
    let (mut store, id, now) = store_with_one_feed(&db);
    store_old_items(&mut store, id, now, 3_000, 60);
    drop(store);
    let config = dir.path().join("veille.toml");
    std::fs::write(
        &config,
        "[storage]\ndatabase = \"veille.db\"\nkeep_items = \"180d\"\n[[feeds]]\nname = \"f\"\nurl = \"https://news.example/f.xml\"\nfetch_article = \"never\"\n",
    )
    .unwrap();
    let prune = || {
        Command::new(super::cli::bin())
            .args(["--config", config.to_str().unwrap(), "prune"])
            .env_remove("VEILLE_CONFIG")
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let items = || Store::open(&db).unwrap().item_count().unwrap();

    // At least six batches of 500 with a pause of 100 ms after each: over half a second, and
    // the signal is sent as soon as the first line is printed.
    let mut child = prune();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.starts_with("retention ("), "{first}");
    // SAFETY: kill(2) on the child's pid, which has not been waited for yet.
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) },
        0
    );
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(130),
        "a SIGTERM ended the prune otherwise: {status:?}\n{rest}"
    );
    assert!(rest.contains("stopped by a signal"), "{rest}");
    assert!(rest.contains("pruned "), "the report is printed: {rest}");
    let left = items();
    assert!(left > 0, "the prune ran to the end before the signal");
    let check: String = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");

    let out = prune().wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(items(), 0, "the next run prunes the rest");
}
