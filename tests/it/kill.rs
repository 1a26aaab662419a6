//! `kill -9` loop: the real `veille run` binary polls loopback feeds that grow on every request
//! and is killed with SIGKILL at random moments, then restarted. At the end, SQL checks that no
//! item is lost that a completed poll had been served, that no row is duplicated (guid per
//! feed, canonical URL) and that `PRAGMA integrity_check` says ok.

use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::{DateTime, Utc};

const FEEDS: usize = 4;
const KILLS: usize = 15;
/// New items per request, and how many of the newest each response lists.
const GROWTH: u64 = 2;
const WINDOW: u64 = 6;

/// One response: to which feed, when, with which guids.
#[derive(Clone)]
struct Served {
    feed: String,
    at: DateTime<Utc>,
    guids: Vec<String>,
}

#[derive(Default)]
struct Growing {
    /// Requests received (some are cut short by a kill before their response).
    requests: std::sync::atomic::AtomicUsize,
    counters: Mutex<HashMap<String, u64>>,
    served: Mutex<Vec<Served>>,
}

async fn grow(State(s): State<Arc<Growing>>, UrlPath(feed): UrlPath<String>) -> impl IntoResponse {
    s.requests
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // A slow server widens the window in which a kill lands mid-poll.
    tokio::time::sleep(Duration::from_millis(50 + random_below(350))).await;
    let n = {
        let mut c = s.counters.lock().unwrap();
        let n = c.entry(feed.clone()).or_insert(0);
        *n += GROWTH;
        *n
    };
    let guids: Vec<String> = (n.saturating_sub(WINDOW)..n)
        .rev()
        .map(|i| format!("{feed}-{i}"))
        .collect();
    let items: String = guids
        .iter()
        .map(|g| format!("<item><guid>{g}</guid><title>Story {g}</title><link>http://news.invalid/{g}</link><description>Text of {g}.</description></item>"))
        .collect();
    let body = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>{feed}</title>{items}</channel></rss>"
    );
    s.served.lock().unwrap().push(Served {
        feed,
        at: Utc::now(),
        guids,
    });
    ([(header::CONTENT_TYPE, "application/rss+xml")], body)
}

fn random_below(n: u64) -> u64 {
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
        % n
}

/// What the database holds after a kill: stored (feed, guid) and each feed's last success.
struct Snapshot {
    items: BTreeSet<(String, String)>,
    last_success: HashMap<String, DateTime<Utc>>,
}

fn snapshot(db: &std::path::Path) -> Option<Snapshot> {
    if !db.exists() {
        return None;
    }
    let conn = rusqlite::Connection::open(db).unwrap();
    let has_tables: bool = conn
        .query_row(
            "SELECT COUNT(*) > 0 FROM sqlite_master WHERE name = 'items'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    if !has_tables {
        return None;
    }
    let mut stmt = conn
        .prepare("SELECT f.name, s.guid FROM item_sources s JOIN feeds f ON f.id = s.feed_id")
        .unwrap();
    let items = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut stmt = conn
        .prepare("SELECT name, last_success_at FROM feeds WHERE last_success_at IS NOT NULL")
        .unwrap();
    let last_success = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    Some(Snapshot {
        items,
        last_success,
    })
}

/// Makes every feed due, as if its interval had passed while veille was down.
fn make_due(db: &std::path::Path) {
    if db.exists() {
        let conn = rusqlite::Connection::open(db).unwrap();
        let _ = conn.execute("UPDATE feeds SET next_check_at = NULL", []);
    }
}

fn spawn_veille(config: &std::path::Path) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_veille"))
        .args([
            "--config",
            config.to_str().unwrap(),
            "run",
            "--tick",
            "50ms",
        ])
        .env_remove("VEILLE_CONFIG")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loop_loses_nothing_committed_and_duplicates_nothing() {
    let state = Arc::new(Growing::default());
    let app = Router::new()
        .route("/grow/{feed}", get(grow))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let mut toml = String::from(
        "[storage]\ndatabase = \"veille.db\"\n[fetch]\ntimeout = \"5s\"\nper_host = 4\nper_host_delay = \"0s\"\n",
    );
    for f in 0..FEEDS {
        toml.push_str(&format!(
            "[[feeds]]\nname = \"f{f}\"\nurl = \"http://{addr}/grow/f{f}\"\nevery = \"1m\"\nfetch_article = \"never\"\n"
        ));
    }
    let config = dir.path().join("veille.toml");
    std::fs::write(&config, toml).unwrap();
    let db = dir.path().join("veille.db");

    let mut snapshots = Vec::new();
    for _ in 0..KILLS {
        make_due(&db);
        let mut child = spawn_veille(&config);
        tokio::time::sleep(Duration::from_millis(20 + random_below(500))).await;
        child.start_kill().unwrap(); // SIGKILL
        child.wait().await.unwrap();
        snapshots.extend(snapshot(&db));
    }
    // A last run, left to finish one poll of every feed, then killed too.
    make_due(&db);
    let before = Utc::now();
    let mut child = spawn_veille(&config);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let done = snapshot(&db).is_some_and(|s| {
            s.last_success.len() == FEEDS && s.last_success.values().all(|t| *t > before)
        });
        if done {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the last run did not poll every feed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let last = snapshot(&db).unwrap();

    // Expected: every item of the last response served to a feed before each recorded success,
    // and everything any snapshot ever held.
    let served = state.served.lock().unwrap().clone();
    let mut expected = BTreeSet::new();
    for snap in snapshots.iter().chain(std::iter::once(&last)) {
        expected.extend(snap.items.iter().cloned());
        for (feed, at) in &snap.last_success {
            let completed = served
                .iter()
                .filter(|s| &s.feed == feed && s.at <= *at)
                .max_by_key(|s| s.at)
                .expect("a success follows a response");
            expected.extend(completed.guids.iter().map(|g| (feed.clone(), g.clone())));
        }
    }
    let lost: Vec<_> = expected.difference(&last.items).collect();
    let completed: BTreeSet<_> = snapshots
        .iter()
        .chain(std::iter::once(&last))
        .flat_map(|s| s.last_success.iter())
        .collect();

    let conn = rusqlite::Connection::open(&db).unwrap();
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    let dup_guid = count(
        "SELECT COUNT(*) FROM (SELECT feed_id, guid FROM items GROUP BY feed_id, guid HAVING COUNT(*) > 1)",
    );
    let dup_url = count(
        "SELECT COUNT(*) FROM (SELECT canonical_url FROM items WHERE canonical_url IS NOT NULL
           GROUP BY canonical_url HAVING COUNT(*) > 1)",
    );
    let rows = count("SELECT COUNT(*) FROM items");
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    println!(
        "kill -9 loop: {KILLS} kills (+1 after a completed poll), {} responses served, {} feed polls completed, {} polls cut short by a kill, {rows} items stored, {} expected, lost {}, duplicates {} (guid) + {} (url), integrity {integrity}",
        served.len(),
        completed.len(),
        state.requests.load(std::sync::atomic::Ordering::Relaxed) - completed.len(),
        expected.len(),
        lost.len(),
        dup_guid,
        dup_url
    );
    assert!(lost.is_empty(), "lost: {lost:?}");
    assert_eq!((dup_guid, dup_url), (0, 0));
    assert_eq!(integrity, "ok");
    assert_eq!(rows as usize, last.items.len(), "one source row per item");
    assert!(rows > 0);
}
