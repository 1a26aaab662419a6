//! Hostile and broken servers: each case is polled beside a healthy feed on the same host, must
//! end in bounded time with the hostile feed's failure (or bounded success) recorded, and must
//! leave the healthy feed's items stored. The SSRF guard and the per-host delay are tested here
//! too, on the same raw server.

use std::time::Duration;

use veille::config::Config;
use veille::model::FeedRow;
use veille::pipeline::{Outcome, Pipeline};
use veille::store::Store;

use super::hostile_server::{GOOD_ITEMS, HostileServer};

/// What one poll of a hostile case left behind.
struct Case {
    outcome: Outcome,
    health: FeedRow,
    db: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

/// Polls the hostile feed at `path` and the good feed once, with a hang guard of 30 s, and
/// checks that the good feed got its items.
async fn poll_case(path: &str) -> Case {
    let server = HostileServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("veille.toml");
    std::fs::write(&file, server.config(path)).unwrap();
    let config = Config::from_file(&file).unwrap();
    let p = Pipeline::new(&config, Store::open(&config.storage.database).unwrap()).unwrap();
    let mut reports = Vec::new();
    tokio::time::timeout(
        Duration::from_secs(30),
        p.poll(true, |r, _| reports.push(r.clone())),
    )
    .await
    .unwrap_or_else(|_| panic!("{path}: the poll did not end within 30 s"))
    .unwrap();
    let good = reports.iter().find(|r| r.feed == "good").unwrap();
    assert!(
        matches!(good.outcome, Outcome::Updated { new, .. } if new == GOOD_ITEMS),
        "{path}: the good feed was affected: {reports:#?}"
    );
    let health = p.store().feeds().unwrap();
    let good_health = health.iter().find(|f| f.name == "good").unwrap();
    assert_eq!(
        (good_health.error_count, good_health.item_count),
        (0, GOOD_ITEMS as i64)
    );
    let hostile = reports.into_iter().find(|r| r.feed == "hostile").unwrap();
    Case {
        outcome: hostile.outcome,
        health: health.into_iter().find(|f| f.name == "hostile").unwrap(),
        db: config.storage.database.clone(),
        _dir: dir,
    }
}

/// Asserts the hostile feed failed with an error containing `needle`, recorded in its health.
fn assert_failed(case: &Case, needle: &str) {
    match &case.outcome {
        Outcome::Failed { error, .. } => assert!(error.contains(needle), "{error}"),
        other => panic!("expected a failure with {needle:?}, got {other:?}"),
    }
    assert_eq!(case.health.error_count, 1);
    let recorded = case.health.last_error.as_deref().unwrap_or_default();
    assert!(recorded.contains(needle), "recorded: {recorded}");
}

fn titles(case: &Case, feed: &str) -> Vec<String> {
    let db = rusqlite::Connection::open(&case.db).unwrap();
    let mut stmt = db
        .prepare("SELECT i.title FROM items i JOIN feeds f ON f.id = i.feed_id WHERE f.name = ?1 ORDER BY i.id")
        .unwrap();
    stmt.query_map([feed], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[tokio::test]
async fn slowloris_times_out() {
    let case = poll_case("/slowloris").await;
    assert_failed(&case, "timed out");
}

#[tokio::test]
async fn endless_body_hits_the_size_cap() {
    let case = poll_case("/endless").await;
    assert_failed(&case, "exceeds the cap of 8388608 bytes");
}

#[tokio::test]
async fn gzip_bomb_hits_the_size_cap_after_inflating() {
    let case = poll_case("/gzip-bomb").await;
    assert_failed(&case, "exceeds the cap of 8388608 bytes");
}

#[tokio::test]
async fn redirect_loop_stops_at_the_redirect_limit() {
    let case = poll_case("/redirect-loop").await;
    assert_failed(&case, "too many redirects (more than 5)");
}

#[tokio::test]
async fn huge_declared_content_length_is_refused_before_reading() {
    let case = poll_case("/huge-length").await;
    assert_failed(&case, "exceeds the cap");
}

#[tokio::test]
async fn invalid_utf8_is_decoded_as_windows_1252_not_rejected() {
    let case = poll_case("/bad-utf8").await;
    assert!(
        matches!(case.outcome, Outcome::Updated { new: 2, .. }),
        "{:?}",
        case.outcome
    );
    let t = titles(&case, "hostile");
    assert!(t[0].starts_with("Café"), "{t:?}");
}

#[tokio::test]
async fn wrong_http_charset_loses_to_the_xml_declaration() {
    let case = poll_case("/wrong-charset").await;
    assert!(
        matches!(case.outcome, Outcome::Updated { new: 2, .. }),
        "{:?}",
        case.outcome
    );
    // The XML declaration (utf-8) wins over the HTTP charset, as XML says it should.
    assert_eq!(titles(&case, "hostile")[0], "Sécurité numérique");
}

#[tokio::test]
async fn billion_laughs_is_not_expanded() {
    let case = poll_case("/billion-laughs").await;
    assert!(
        matches!(case.outcome, Outcome::Updated { new: 1, .. }),
        "{:?}",
        case.outcome
    );
    // The parser never expands entities declared in a DTD: the reference stays as written.
    assert_eq!(titles(&case, "hostile"), ["&lol10;"]);
}

#[tokio::test]
async fn hundred_thousand_items_are_capped_at_max_items_per_feed() {
    let case = poll_case("/many-items").await;
    assert!(
        matches!(
            case.outcome,
            Outcome::Updated {
                items: 1000,
                new: 1000,
                capped_from: Some(100_000),
                ..
            }
        ),
        "{:?}",
        case.outcome
    );
    assert_eq!(case.health.item_count, 1000);
}

#[tokio::test]
async fn same_guid_everywhere_stores_one_item_per_distinct_content() {
    let case = poll_case("/same-guid").await;
    assert!(
        matches!(case.outcome, Outcome::Updated { new: 5, .. }),
        "{:?}",
        case.outcome
    );
    let mut t = titles(&case, "hostile");
    t.sort();
    assert_eq!(t, ["Story 0", "Story 1", "Story 2", "Story 3", "Story 4"]);
}

#[tokio::test]
async fn html_instead_of_xml_is_an_invalid_feed() {
    let case = poll_case("/html").await;
    assert_failed(&case, "invalid feed");
}

#[tokio::test]
async fn empty_200_is_an_empty_document() {
    let case = poll_case("/empty").await;
    assert_failed(&case, "empty document");
}

/// A feed cut in the middle of an item keeps its complete items (as lenient readers do), drops
/// the half item, and says so in its health; it is not an error (issue 14).
#[tokio::test]
async fn truncated_xml_keeps_its_complete_items_with_a_warning() {
    let case = poll_case("/truncated").await;
    let Outcome::Updated { items, .. } = case.outcome else {
        panic!("expected the complete items, got {:?}", case.outcome)
    };
    assert!(
        (1..4).contains(&items),
        "{items} of the 4 items, the cut one dropped"
    );
    assert_eq!(
        (case.health.error_count, case.health.item_count),
        (0, items as i64)
    );
    let warning = case.health.last_warning.as_deref().unwrap_or_default();
    assert!(
        warning.contains("document cut short: its incomplete last item dropped"),
        "{warning}"
    );
}

/// Polls the feed of article links to loopback and metadata addresses, with the guard on or off.
async fn poll_links(allow_private: bool) -> (HostileServer, Vec<(String, Option<String>)>) {
    let server = HostileServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("veille.toml");
    let toml = format!(
        "[storage]\ndatabase = \"veille.db\"\n[fetch]\ntimeout = \"3s\"\nconnect_timeout = \"1s\"\n\
         per_host_delay = \"0s\"\nallow_private_networks = {allow_private}\n\
         [[feeds]]\nname = \"links\"\nurl = \"{}\"\nfetch_article = \"always\"\n",
        server.url("/ssrf-feed")
    );
    std::fs::write(&file, toml).unwrap();
    let config = Config::from_file(&file).unwrap();
    let p = Pipeline::new(&config, Store::open(&config.storage.database).unwrap()).unwrap();
    let summary = p.poll(true, |_, _| {}).await.unwrap();
    assert_eq!((summary.ok, summary.new_items), (1, 4), "{summary}");
    let db = rusqlite::Connection::open(&config.storage.database).unwrap();
    let mut stmt = db
        .prepare("SELECT url, article_status FROM items ORDER BY guid")
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            r.get(1).map(|s| (r.get::<_, String>(0).unwrap(), s))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    (server, rows)
}

#[tokio::test]
async fn ssrf_guard_blocks_article_links_to_private_addresses() {
    let (server, rows) = poll_links(false).await;
    assert_eq!(server.hits("/page"), 0, "no request may reach loopback");
    assert_eq!(
        server.hits("/ssrf-feed"),
        1,
        "the configured feed URL is trusted"
    );
    let expect = ["127.0.0.1", "127.0.0.1", "169.254.169.254", "::1"];
    for ((url, status), addr) in rows.iter().zip(expect) {
        let status = status.as_deref().unwrap_or_default();
        assert!(
            status.starts_with("fetch_failed: blocked: ") && status.contains(addr),
            "{url}: {status}"
        );
    }
    // localhost is refused by the resolver, with the address it resolved to.
    assert!(rows[1].0.contains("localhost"), "{rows:?}");
}

#[tokio::test]
async fn allow_private_networks_lets_article_links_reach_loopback() {
    let (server, rows) = poll_links(true).await;
    assert!(server.hits("/page") >= 2, "{rows:?}");
    assert_eq!(rows[0].1.as_deref(), Some("ok"), "{rows:?}");
}

#[tokio::test]
async fn requests_to_one_host_are_spaced_by_per_host_delay() {
    let server = HostileServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("veille.toml");
    let mut toml = String::from(
        "[storage]\ndatabase = \"veille.db\"\n[fetch]\nper_host = 4\nper_host_delay = \"500ms\"\n",
    );
    for i in 0..3 {
        toml.push_str(&format!(
            "[[feeds]]\nname = \"g{i}\"\nurl = \"{}\"\n",
            server.url(&format!("/good?{i}"))
        ));
    }
    std::fs::write(&file, toml).unwrap();
    let config = Config::from_file(&file).unwrap();
    let p = Pipeline::new(&config, Store::open(&config.storage.database).unwrap()).unwrap();
    let summary = p.poll(true, |_, _| {}).await.unwrap();
    assert_eq!(summary.ok, 3, "{summary}");
    let mut starts: Vec<_> = server
        .requests
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.1)
        .collect();
    starts.sort();
    assert_eq!(starts.len(), 3);
    for pair in starts.windows(2) {
        // Spacing is a behaviour, not a speed: the fetcher waits the delay between starts.
        // Arrival at the server lags the start by the connect time, which varies under load;
        // without the delay the three requests arrive within milliseconds of each other.
        assert!(
            pair[1] - pair[0] >= Duration::from_millis(350),
            "requests {:?} apart",
            pair[1] - pair[0]
        );
    }
}
