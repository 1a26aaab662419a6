//! Polling against the loopback server: every feed format, dedupe, conditional GET, failures.

use std::path::{Path, PathBuf};

use veille::config::Config;
use veille::pipeline::{Outcome, Pipeline, PollSummary};
use veille::store::{ItemFilter, Store};

use super::server::{LAST_MODIFIED, TestServer};

/// Writes a configuration in `dir` listing `feeds` as (name, path on the server).
pub fn write_config(dir: &Path, server: &TestServer, feeds: &[(&str, &str)]) -> PathBuf {
    let mut toml = String::from(
        "[storage]\ndatabase = \"veille.db\"\n[fetch]\ntimeout = \"5s\"\nconnect_timeout = \"2s\"\nmax_body_bytes = 1048576\nper_host_delay = \"0s\"\nallow_private_networks = true\n",
    );
    for (name, path) in feeds {
        toml.push_str(&format!(
            "[[feeds]]\nname = \"{name}\"\nurl = \"{}\"\nevery = \"30m\"\n",
            server.url(path)
        ));
    }
    let path = dir.join("veille.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

fn pipeline(config: &Path) -> (Config, Pipeline) {
    let config = Config::from_file(config).unwrap();
    let store = Store::open(&config.storage.database).unwrap();
    let p = Pipeline::new(&config, store).unwrap();
    (config, p)
}

async fn poll_all(p: &Pipeline) -> (PollSummary, Vec<(String, Outcome)>) {
    let mut reports = Vec::new();
    let summary = p
        .poll(true, |r, _| {
            reports.push((r.feed.clone(), r.outcome.clone()))
        })
        .await
        .unwrap();
    reports.sort_by(|a, b| a.0.cmp(&b.0));
    (summary, reports)
}

fn outcome<'a>(reports: &'a [(String, Outcome)], feed: &str) -> &'a Outcome {
    &reports.iter().find(|(n, _)| n == feed).unwrap().1
}

const GOOD: &[(&str, &str)] = &[
    ("rss2", "/feeds/rss2.xml"),
    ("atom", "/feeds/atom.xml"),
    ("rss1", "/feeds/rss1.rdf"),
    ("json", "/feeds/feed.json"),
    ("latin1", "/feeds/latin1.xml"),
    ("rss091", "/feeds/rss091.xml"),
];

#[tokio::test]
async fn every_format_is_stored_once_and_broken_feeds_are_recorded() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut feeds = GOOD.to_vec();
    feeds.extend([
        ("broken", "/feeds/malformed.xml"),
        ("server-error", "/status/500"),
        ("redirected", "/redirect/rss1.rdf"),
    ]);
    let (_, p) = pipeline(&write_config(dir.path(), &server, &feeds));

    let (summary, reports) = poll_all(&p).await;
    // rss2: 3, atom: 2 of which one is rss2's article (same canonical URL), rss1: 2 (and the
    // redirected copy of it adds none), json: 2, latin1: 1, rss091: 2.
    assert_eq!(summary.new_items, 3 + 1 + 2 + 2 + 1 + 2, "{reports:#?}");
    assert_eq!(
        (summary.feeds, summary.ok, summary.failed),
        (9, 7, 2),
        "{reports:#?}"
    );
    assert!(
        matches!(outcome(&reports, "broken"), Outcome::Failed { error, .. } if error.contains("invalid feed"))
    );
    assert!(matches!(
        outcome(&reports, "server-error"),
        Outcome::Failed {
            status: Some(500),
            ..
        }
    ));
    // rss1 and its redirected copy run concurrently: whichever stores first gets the items.
    let new_of = |feed| match outcome(&reports, feed) {
        Outcome::Updated { items: 2, new, .. } => *new,
        other => panic!("{feed}: {other:?}"),
    };
    assert_eq!(new_of("rss1") + new_of("redirected"), 2);

    assert_eq!(p.store().item_count().unwrap(), 11);
    let health = p.store().feeds().unwrap();
    let broken = health.iter().find(|f| f.name == "broken").unwrap();
    assert_eq!(broken.error_count, 1);
    assert!(
        broken
            .last_error
            .as_deref()
            .unwrap()
            .contains("invalid feed")
    );
    let rss2 = health.iter().find(|f| f.name == "rss2").unwrap();
    assert_eq!(
        (rss2.error_count, rss2.last_status, rss2.item_count),
        (0, Some(200), 3)
    );
    // The atom feed saw two items, one of them stored under rss2: both count for the feed.
    assert_eq!(
        health.iter().find(|f| f.name == "atom").unwrap().item_count,
        2
    );

    // Second poll: the server answers 304 to the conditional requests; nothing new is stored.
    let (summary, _) = poll_all(&p).await;
    assert_eq!(summary.new_items, 0);
    assert_eq!(summary.not_modified, 7, "{summary}");
    assert_eq!(p.store().item_count().unwrap(), 11);
    let seen = server.seen("/feeds/rss2.xml");
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].if_none_match, None);
    assert_eq!(seen[1].if_none_match.as_deref(), Some("\"v1-rss2.xml\""));
    assert_eq!(seen[1].if_modified_since.as_deref(), Some(LAST_MODIFIED));
    assert!(
        seen[0]
            .user_agent
            .as_deref()
            .unwrap()
            .starts_with("veille/")
    );
}

#[tokio::test]
async fn items_are_stored_once_when_the_server_ignores_conditional_get() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (_, p) = pipeline(&write_config(
        dir.path(),
        &server,
        &[
            ("rss2", "/nocache/rss2.xml"),
            ("json", "/nocache/feed.json"),
        ],
    ));
    for round in 0..3 {
        let (summary, _) = poll_all(&p).await;
        assert_eq!(
            summary.new_items,
            if round == 0 { 5 } else { 0 },
            "round {round}"
        );
        assert_eq!(summary.not_modified, 0);
    }
    assert_eq!(p.store().item_count().unwrap(), 5);
}

#[tokio::test]
async fn content_is_decoded_resolved_and_cleaned() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (_, p) = pipeline(&write_config(dir.path(), &server, GOOD));
    poll_all(&p).await;
    let items = p.store().items(&ItemFilter::default()).unwrap();
    let titles: Vec<&str> = items.iter().map(|i| i.title.as_str()).collect();
    assert!(
        titles.contains(&"Coopération UE-OTAN : réunion à Bruxelles"),
        "{titles:?}"
    );
    assert!(
        titles.contains(&"Conseil : conclusions sur la cyberdiplomatie"),
        "{titles:?}"
    );
    let url_of = |title: &str| {
        items
            .iter()
            .find(|i| i.title.starts_with(title))
            .unwrap()
            .url
            .clone()
            .unwrap()
    };
    assert_eq!(
        url_of("Gigabit"),
        server.url("/en/news/gigabit-infrastructure-act")
    );
    assert_eq!(
        url_of("Conseil"),
        server.url("/feeds/communiques/2023/10/conseil-cyberdiplomatie")
    );
    let json_item = items
        .iter()
        .find(|i| i.title.starts_with("Joint statement"))
        .unwrap();
    assert_eq!(
        json_item.published.unwrap().to_rfc3339(),
        "2023-10-03T15:00:00+00:00"
    );
    // Languages declared by feeds are kept (atom's xml:lang, json's en-US).
    assert_eq!(
        url_of("Joint statement"),
        "https://state.example/releases/us-eu-cyber-dialogue"
    );
    assert_eq!(json_item.language.as_deref(), Some("en"));
    let atom_item = items
        .iter()
        .find(|i| i.title.starts_with("Conseil"))
        .unwrap();
    assert_eq!(atom_item.language.as_deref(), Some("fr"));
    let old = items
        .iter()
        .find(|i| i.title.starts_with("Rat verabschiedet"))
        .unwrap();
    assert_eq!(old.language.as_deref(), Some("de"));
}

#[tokio::test]
async fn oversized_bodies_redirect_loops_and_retry_after_are_failures_with_reasons() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (_, p) = pipeline(&write_config(
        dir.path(),
        &server,
        &[
            ("streamed-big", "/big"),
            ("declared-big", "/big-declared"),
            ("loop", "/loop/0"),
            ("busy", "/status/503"),
            ("rss2", "/feeds/rss2.xml"),
        ],
    ));
    let before = chrono::Utc::now();
    let (summary, reports) = poll_all(&p).await;
    assert_eq!((summary.failed, summary.new_items), (4, 3), "{reports:#?}");
    for name in ["streamed-big", "declared-big"] {
        assert!(
            matches!(outcome(&reports, name), Outcome::Failed { error, .. } if error.contains("exceeds the cap of 1048576 bytes")),
            "{name}: {reports:#?}"
        );
    }
    assert!(
        matches!(outcome(&reports, "loop"), Outcome::Failed { error, .. } if error.contains("too many redirects"))
    );
    let health = p.store().feeds().unwrap();
    let busy = health.iter().find(|f| f.name == "busy").unwrap();
    assert_eq!(busy.last_status, Some(503));
    assert!(
        busy.next_check_at.unwrap() >= before + chrono::Duration::seconds(7200),
        "Retry-After obeyed"
    );
}

#[tokio::test]
async fn due_feeds_wait_for_their_next_check() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (_, p) = pipeline(&write_config(
        dir.path(),
        &server,
        &[("rss2", "/feeds/rss2.xml")],
    ));
    let first = p.poll(false, |_, _| {}).await.unwrap();
    assert_eq!(first.feeds, 1);
    let second = p.poll(false, |_, _| {}).await.unwrap();
    assert_eq!(second.feeds, 0, "not due again for 30 minutes");
    assert_eq!(server.seen("/feeds/rss2.xml").len(), 1);
}

#[tokio::test]
async fn short_items_get_their_article_page_and_failures_keep_the_summary() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (config, p) = pipeline(&write_config(
        dir.path(),
        &server,
        &[("press", "/feeds/short-summaries.xml")],
    ));
    let (summary, reports) = poll_all(&p).await;
    assert_eq!(summary.new_items, 4, "{reports:#?}");
    assert!(
        matches!(
            outcome(&reports, "press"),
            Outcome::Updated {
                articles_failed: 2,
                ..
            }
        ),
        "{reports:#?}"
    );
    // Pages fetched: the three short items; the long one is complete in the feed.
    assert_eq!(server.seen("/pages/council-fisheries-en.html").len(), 1);
    assert_eq!(server.seen("/pages/consent-wall.html").len(), 1);
    assert!(server.seen("/pages/eeas-sahel-fr.html").is_empty());

    let db = rusqlite::Connection::open(&config.storage.database).unwrap();
    // Long texts are stored deflated (store::packed): a BLOB is inflated here.
    let stored = |v: rusqlite::types::Value| -> Option<String> {
        use std::io::Read;
        match v {
            rusqlite::types::Value::Text(t) => Some(t),
            rusqlite::types::Value::Blob(b) => {
                let mut t = String::new();
                flate2::read::DeflateDecoder::new(&b[..])
                    .read_to_string(&mut t)
                    .unwrap();
                Some(t)
            }
            _ => None,
        }
    };
    let row = |guid: &str| -> (String, Option<String>, Option<String>) {
        let (text, article, status) = db
            .query_row(
                "SELECT i.text, i.article_text, i.article_status FROM items i
                 JOIN item_sources s ON s.item_id = i.id WHERE s.guid = ?1",
                [guid],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        (stored(text).unwrap(), stored(article), status)
    };
    let (feed_text, article, status) = row("short-1");
    assert_eq!(status.as_deref(), Some("ok"));
    let article = article.unwrap();
    assert!(
        article.starts_with(
            "The Council today reached an agreement with Norway and the United Kingdom"
        ),
        "{article}"
    );
    assert!(
        article
            .trim_end()
            .ends_with("until consultations are concluded."),
        "{article}"
    );
    assert_eq!(
        feed_text,
        "The Council reached an agreement on shared stocks."
    );
    let (feed_text, article, status) = row("short-2");
    assert_eq!((status.as_deref(), article), (Some("consent_wall"), None));
    assert_eq!(feed_text, "Summary kept when the page is a consent wall.");
    let (_, article, status) = row("short-3");
    assert_eq!(article, None);
    assert!(status.unwrap().starts_with("fetch_failed: HTTP status 404"));
    let (_, article, status) = row("short-4");
    assert_eq!((article, status), (None, None));

    let press = p
        .store()
        .feeds()
        .unwrap()
        .into_iter()
        .find(|f| f.name == "press")
        .unwrap();
    assert_eq!((press.error_count, press.article_failures), (0, 2));

    // A second poll fetches no page again: the items are known.
    poll_all(&p).await;
    assert_eq!(server.seen("/pages/council-fisheries-en.html").len(), 1);
}

/// Regression (issue 14): broken XML was refused outright, an RSS feed with a default
/// namespace was a silent zero, an item linked only by its guid had no link. Now the feed is
/// read with a warning in its health, and items without a link are stored once.
#[tokio::test]
async fn a_sloppy_feed_is_recovered_with_a_warning_and_linkless_items_are_stored_once() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &server,
        &[
            ("sloppy", "/nocache/sloppy.xml"),
            ("rss2", "/feeds/rss2.xml"),
        ],
    );
    let (_, p) = pipeline(&config);
    let (summary, reports) = poll_all(&p).await;
    assert!(
        matches!(
            outcome(&reports, "sloppy"),
            Outcome::Updated {
                items: 3,
                new: 3,
                ..
            }
        ),
        "{reports:#?}"
    );
    let items = p
        .store()
        .items(&ItemFilter {
            feed: Some("sloppy".into()),
            ..ItemFilter::default()
        })
        .unwrap();
    let mut got: Vec<(String, Option<String>)> = items
        .iter()
        .map(|i| (i.title.clone(), i.url.clone()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            (
                "EU & NATO staff talks".to_string(),
                Some("https://sloppy.example/news?id=1&lang=en".to_string())
            ),
            (
                "Linked by its guid".to_string(),
                Some("https://sloppy.example/news/3".to_string())
            ),
            ("Statement without a link".to_string(), None),
        ]
    );
    let dated = items.iter().find(|i| i.title.starts_with("EU")).unwrap();
    assert_eq!(
        dated.published.unwrap().to_rfc3339(),
        "2023-12-16T14:02:33+00:00"
    );
    let health = p.store().feeds().unwrap();
    let sloppy = health.iter().find(|f| f.name == "sloppy").unwrap();
    assert_eq!(
        (sloppy.error_count, sloppy.last_error.as_deref()),
        (0, None)
    );
    let warning = sloppy.last_warning.as_deref().unwrap();
    assert!(
        warning
            .starts_with("recovered from malformed XML: 3 unescaped '&' escaped; 1 unclosed CDATA"),
        "{warning}"
    );
    let rss2 = health.iter().find(|f| f.name == "rss2").unwrap();
    assert_eq!(rss2.last_warning, None, "a clean feed has no warning");
    assert_eq!(summary.failed, 0);

    // The same document again (no validators): nothing new, the linkless item included.
    let (summary, _) = poll_all(&p).await;
    assert_eq!(summary.new_items, 0, "{summary}");
    assert_eq!(p.store().feeds().unwrap()[1].item_count, 3);

    // `veille feeds` shows the warning.
    drop(p);
    let out = super::cli::veille(&["--config", config.to_str().unwrap(), "feeds"]).await;
    let table = super::cli::text(&out.stdout);
    assert!(
        table.lines().any(|l| l.starts_with("sloppy") && l.contains("warning: recovered from malformed XML")),
        "{table}"
    );
    // So does the web view's feeds page.
    let config = veille::config::Config::from_file(&config).unwrap();
    let (status, page) = super::web::page_in_process(&config, "/feeds").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("warning: recovered from malformed XML"),
        "{page}"
    );
}

/// Issue 18: a poll beside `veille prune` was counted "blocked" for its whole refresh time,
/// fetch and parse included. A refresh now reports apart the time its writes waited for the
/// write lock: here another connection holds the lock for 600 ms while the poll runs.
#[tokio::test]
async fn a_refresh_reports_how_long_its_writes_waited_for_the_write_lock() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (config, p) = pipeline(&write_config(
        dir.path(),
        &server,
        &[("rss2", "/feeds/rss2.xml")],
    ));
    // The term trie is built on the first classification (0.2–0.7 s): built here, so that the
    // poll below reaches its writes while the lock is still held.
    p.classifier().matches(
        "EU and NATO",
        "The trie is built before the lock is taken.",
        None,
    );
    let held = std::time::Duration::from_millis(600);
    let (locked, wait_locked) = std::sync::mpsc::channel();
    let db = config.storage.database.clone();
    let holder = std::thread::spawn(move || {
        let c = rusqlite::Connection::open(db).unwrap();
        c.execute_batch("BEGIN IMMEDIATE").unwrap();
        locked.send(()).unwrap();
        std::thread::sleep(held);
        c.execute_batch("COMMIT").unwrap();
    });
    wait_locked.recv().unwrap();
    let mut reports = Vec::new();
    p.poll(true, |r, _| reports.push(r.clone())).await.unwrap();
    holder.join().unwrap();
    let r = &reports[0];
    assert!(
        matches!(r.outcome, Outcome::Updated { new, .. } if new > 0),
        "{r:?}"
    );
    assert!(
        r.lock_wait >= held / 2 && r.lock_wait <= r.elapsed,
        "waited {:?} of {:?}",
        r.lock_wait,
        r.elapsed
    );

    // Nobody holds the lock: next to no wait.
    let (_, again) = pipeline(&write_config(
        dir.path(),
        &server,
        &[("rss2", "/feeds/rss2.xml")],
    ));
    let mut reports = Vec::new();
    again
        .poll(true, |r, _| reports.push(r.clone()))
        .await
        .unwrap();
    assert!(
        reports[0].lock_wait < held / 4,
        "{:?}",
        reports[0].lock_wait
    );
}
