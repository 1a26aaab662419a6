//! Issue 15: veille attacked on loopback the way a hostile feed, a broken mail server or a
//! careless operator would. One regression test per defect found, named after it: a hostile
//! site and a second "internal" site on loopback, the SMTP sink in slow and silent modes, real
//! SQLite files, the built binary where the defect showed through it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use veille::config::Config;
use veille::digest::{Digester, Scope};
use veille::model::ParsedItem;
use veille::pipeline::{Outcome, Pipeline};
use veille::service::{self, Signal};
use veille::store::{NewItem, Store, StoredMatch};

use super::cli::{text, veille};
use super::server::TestServer;
use super::smtp::{Mode, SmtpSink};

// ---- the sites ----

/// A request as a site saw it: path with query.
#[derive(Debug, Clone)]
struct Hit {
    path: String,
}

#[derive(Default)]
struct SiteState {
    hits: Mutex<Vec<Hit>>,
    /// The other site, where a hostile next link or redirect points.
    inside: Mutex<Option<SocketAddr>>,
    /// Requests to `/churn` so far (its guids change with each).
    churn: AtomicUsize,
}

/// A site on loopback: the hostile one, or the "internal" one that must never be reached.
struct Site {
    addr: SocketAddr,
    state: Arc<SiteState>,
}

impl Site {
    async fn start() -> Site {
        let state = Arc::new(SiteState::default());
        let app = Router::new()
            .route("/listing/{variant}", get(listing))
            .route("/redirect-away", get(redirect_away))
            .route("/slow/{ms}", get(slow))
            .route("/churn", get(churn))
            .route("/controls", get(controls))
            .route("/huge-titles", get(huge_titles))
            .route("/ipv6-links", get(ipv6_links))
            .fallback(anything)
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Site { addr, state }
    }

    /// A hostile site whose links point at a second, internal one.
    async fn pair() -> (Site, Site) {
        let (hostile, inside) = (Site::start().await, Site::start().await);
        *hostile.state.inside.lock().unwrap() = Some(inside.addr);
        (hostile, inside)
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn hits(&self, path: &str) -> Vec<Hit> {
        let hits = self.state.hits.lock().unwrap();
        hits.iter()
            .filter(|h| h.path.split('?').next() == Some(path))
            .cloned()
            .collect()
    }

    fn all_hits(&self) -> usize {
        self.state.hits.lock().unwrap().len()
    }
}

fn record(state: &SiteState, uri: &Uri, _headers: &HeaderMap) {
    state.hits.lock().unwrap().push(Hit {
        path: uri
            .path_and_query()
            .map_or_else(|| uri.path().to_string(), |p| p.to_string()),
    });
}

fn rss(items: &str) -> Response {
    (
        [(header::CONTENT_TYPE, "application/rss+xml")],
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>Hostile</title>{items}</channel></rss>"
        ),
    )
        .into_response()
}

fn html(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

/// The EU–US story of `tests/data/feeds/cyber-news.xml` (the rules classify it `eu-us-cyber`).
const CYBER_TEXT: &str = "&lt;p&gt;The European Union and the United States held their annual cyber dialogue on 2 June. The EEAS and the State Department agreed to deepen cooperation on ransomware and on the security of undersea cables.&lt;/p&gt;&lt;p&gt;ENISA and CISA will publish joint guidance on vulnerability disclosure before the end of the year, under their working arrangement.&lt;/p&gt;";

/// Anything else: recorded, and answered with something worth stealing.
async fn anything(State(s): State<Arc<SiteState>>, uri: Uri, headers: HeaderMap) -> Response {
    record(&s, &uri, &headers);
    html("<html><body><div class=\"card\"><a href=\"/internal-doc\">Internal: secret credentials</a></div><article><p>secret</p></article></body></html>".into())
}

/// A listing page whose next link points away (`away`: the internal site; `metadata`: the cloud
/// metadata address), or stays on this origin (`own`, then `own2`, the last page).
async fn listing(
    State(s): State<Arc<SiteState>>,
    UrlPath(variant): UrlPath<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    record(&s, &uri, &headers);
    let inside = s.inside.lock().unwrap().expect("paired");
    let next = match variant.as_str() {
        "away" => format!("http://{inside}/secret"),
        "metadata" => "http://169.254.169.254/latest/meta-data/iam/".into(),
        "own" => "/listing/own2".into(),
        _ => String::new(),
    };
    let next = if next.is_empty() {
        String::new()
    } else {
        format!("<a rel=\"next\" href=\"{next}\">Next</a>")
    };
    html(format!(
        "<html><body><div class=\"card\"><a href=\"/news/{variant}-1\">Story on {variant}</a></div>{next}</body></html>"
    ))
}

async fn redirect_away(State(s): State<Arc<SiteState>>, uri: Uri, headers: HeaderMap) -> Response {
    record(&s, &uri, &headers);
    let inside = s.inside.lock().unwrap().expect("paired");
    (
        StatusCode::FOUND,
        [(header::LOCATION, format!("http://{inside}/secret"))],
    )
        .into_response()
}

/// A small feed, after `ms` milliseconds.
async fn slow(
    State(s): State<Arc<SiteState>>,
    UrlPath(ms): UrlPath<u64>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    record(&s, &uri, &headers);
    tokio::time::sleep(Duration::from_millis(ms)).await;
    rss(
        "<item><guid>slow-1</guid><title>Slow but sure</title><description>Text.</description></item>",
    )
}

/// 50 items whose guids change on every request: 25 with a link, 25 without.
async fn churn(State(s): State<Arc<SiteState>>, uri: Uri, headers: HeaderMap) -> Response {
    record(&s, &uri, &headers);
    let n = s.churn.fetch_add(1, Ordering::Relaxed);
    let items: String = (0..50)
        .map(|i| {
            let link = if i < 25 {
                format!("<link>https://news.invalid/story/{i}</link>")
            } else {
                String::new()
            };
            format!(
                "<item><guid>poll{n}-item{i}</guid><title>Story {i}</title>{link}<description>Text of story {i}.</description></item>"
            )
        })
        .collect();
    rss(&items)
}

/// Terminal escapes, a NUL and a right-to-left override in a title, an escape spelled as an
/// entity in the summary.
async fn controls(State(s): State<Arc<SiteState>>, uri: Uri, headers: HeaderMap) -> Response {
    record(&s, &uri, &headers);
    rss(&format!(
        "<item><guid>c1</guid><link>https://news.invalid/c1</link>\
         <title>\u{1b}[2J\u{1b}[31mEU and United States hold annual cyber dialogue\u{0} \u{202e}fdp.exe</title>\
         <description>&lt;p&gt;&amp;#27;]0;pwned&amp;#7;&lt;/p&gt;{CYBER_TEXT}</description></item>"
    ))
}

/// Eight items with titles of a megabyte each.
async fn huge_titles(State(s): State<Arc<SiteState>>, uri: Uri, headers: HeaderMap) -> Response {
    record(&s, &uri, &headers);
    let title = "EU and United States cyber dialogue ".repeat(30_000);
    let items: String = (0..8)
        .map(|i| {
            format!(
                "<item><guid>h{i}</guid><link>https://news.invalid/huge/{i}</link><title>{title}</title><description>{CYBER_TEXT}</description></item>"
            )
        })
        .collect();
    rss(&items)
}

/// Article links to this very host, spelled as IPv6 forms that embed 127.0.0.1.
async fn ipv6_links(State(s): State<Arc<SiteState>>, uri: Uri, headers: HeaderMap) -> Response {
    record(&s, &uri, &headers);
    let port = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.rsplit(':').next())
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or(80);
    let links = [
        "2002:7f00:1::",                        // 6to4
        "2001:0:4136:e378:8000:63bf:80ff:fffe", // Teredo, client 127.0.0.1
        "::ffff:0:7f00:1",                      // IPv4-translated
        "64:ff9b:1::7f00:1",                    // local-use NAT64
    ];
    let items: String = links
        .iter()
        .enumerate()
        .map(|(i, ip)| {
            format!(
                "<item><guid>v{i}</guid><title>Link {i}</title><link>http://[{ip}]:{port}/article</link></item>"
            )
        })
        .collect();
    rss(&items)
}

// ---- helpers ----

/// Polls `cond` every 20 ms until it holds, failing after `secs` seconds.
async fn eventually(secs: u64, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Writes `toml` as `veille.toml` in `dir` (database `veille.db` beside it) and loads it.
fn config(dir: &Path, toml: &str) -> (PathBuf, Config) {
    let path = dir.join("veille.toml");
    std::fs::write(
        &path,
        format!("[storage]\ndatabase = \"veille.db\"\n{toml}"),
    )
    .unwrap();
    let config = Config::from_file(&path).unwrap();
    (path, config)
}

fn sql(db: &Path) -> rusqlite::Connection {
    let c = rusqlite::Connection::open(db).unwrap();
    c.busy_timeout(Duration::from_secs(5)).unwrap();
    c
}

fn count(db: &Path, query: &str) -> i64 {
    sql(db).query_row(query, [], |r| r.get(0)).unwrap()
}

/// As [`count`], 0 while the database or its tables do not exist yet.
fn count_if_ready(db: &Path, query: &str) -> i64 {
    if !db.exists() {
        return 0;
    }
    sql(db).query_row(query, [], |r| r.get(0)).unwrap_or(0)
}

/// Stores one item of `feed` that matches `eu-us-cyber`, as the pipeline would have.
fn seed_match(config: &Config, feed: &str) {
    let mut store = Store::open(&config.storage.database).unwrap();
    store.sync_feeds(&config.feeds, Utc::now()).unwrap();
    let id = store
        .feeds()
        .unwrap()
        .into_iter()
        .find(|f| f.name == feed)
        .unwrap()
        .id;
    let item = NewItem {
        parsed: ParsedItem {
            guid: "seed-1".into(),
            url: Some("https://news.invalid/seed-1".into()),
            canonical_url: Some("https://news.invalid/seed-1".into()),
            title: "EU and United States hold annual cyber dialogue".into(),
            text: "The European Union and the United States held their annual cyber dialogue."
                .into(),
            ..ParsedItem::default()
        },
        language: Some("en".into()),
        language_source: None,
        matches: vec![StoredMatch {
            topic: "eu-us-cyber".into(),
            score: 0.9,
            evidence_json: "[]".into(),
        }],
        article: None,
        links: None,
        hashes: None,
        prepared: None,
    };
    store.store_items(id, &[item], Utc::now()).unwrap();
}

const FORCE: Scope<'static> = Scope {
    watchlist: None,
    force: true,
};
const DUE: Scope<'static> = Scope {
    watchlist: None,
    force: false,
};

async fn get_json(addr: SocketAddr, path: &str) -> serde_json::Value {
    let body = reqwest::Client::new()
        .get(format!("http://{addr}{path}"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

fn spawn_run(config: &Path, tick: &str) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_veille"))
        .args(["--config", config.to_str().unwrap(), "run", "--tick", tick])
        .env_remove("VEILLE_CONFIG")
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

// ---- 1. SSRF through a listing's next page (and redirects) ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssrf_listing_next_page_to_another_loopback_server_gets_no_request() {
    let (hostile, inside) = Site::pair().await;
    let dir = tempfile::tempdir().unwrap();
    let mut toml = String::from(
        "[fetch]\ntimeout = \"3s\"\nconnect_timeout = \"1s\"\nper_host_delay = \"0s\"\n",
    );
    for variant in ["away", "metadata", "own"] {
        toml.push_str(&format!(
            "[[feeds]]\nname = \"{variant}\"\nurl = \"{}\"\nfetch_article = \"never\"\nkind = \"html\"\n\
             [feeds.html]\nitem = \"div.card\"\nlink = \"a\"\nnext_page = \"a[rel=next]\"\nmax_pages = 3\n",
            hostile.url(&format!("/listing/{variant}"))
        ));
    }
    toml.push_str(&format!(
        "[[feeds]]\nname = \"redirect\"\nurl = \"{}\"\nfetch_article = \"never\"\n",
        hostile.url("/redirect-away")
    ));
    let (_, config) = config(dir.path(), &toml);
    let p = Pipeline::new(&config, Store::open(&config.storage.database).unwrap()).unwrap();
    let mut reports = Vec::new();
    p.poll(true, |r, _| reports.push(r.clone())).await.unwrap();
    let outcome = |feed: &str| {
        reports
            .iter()
            .find(|r| r.feed == feed)
            .unwrap()
            .outcome
            .clone()
    };

    // The internal site got nothing: not the next page, not the redirect.
    assert_eq!(
        inside.all_hits(),
        0,
        "{:?}",
        inside.state.hits.lock().unwrap()
    );
    // The listing's own first page is kept; its next page off the origin is not read.
    assert!(
        matches!(outcome("away"), Outcome::Updated { new: 1, .. }),
        "{:?}",
        outcome("away")
    );
    assert!(
        matches!(outcome("metadata"), Outcome::Updated { new: 1, .. }),
        "{:?}",
        outcome("metadata")
    );
    // A next page on the configured source's own origin is read.
    assert!(
        matches!(outcome("own"), Outcome::Updated { new: 2, .. }),
        "{:?}",
        outcome("own")
    );
    assert_eq!(hostile.hits("/listing/own2").len(), 1);
    // A configured feed redirecting to another origin on a private address is refused.
    match outcome("redirect") {
        Outcome::Failed { error, .. } => assert!(error.contains("blocked"), "{error}"),
        other => panic!("{other:?}"),
    }
    let titles: Vec<String> = p
        .store()
        .items(&Default::default())
        .unwrap()
        .into_iter()
        .map(|i| i.title)
        .collect();
    assert!(
        !titles.iter().any(|t| t.contains("secret")),
        "internal content stored: {titles:?}"
    );
}

// ---- 2. The same digest mailed twice without any crash ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digest_mailed_twice_two_senders_and_a_slow_smtp_server_send_each_digest_once() {
    // Each message takes the server 1.2 s to accept; a lease lasts 0.6 s unless renewed.
    let sink = SmtpSink::start(Mode::SlowData(Duration::from_millis(1200))).await;
    let dir = tempfile::tempdir().unwrap();
    let mut toml = format!(
        "[[feeds]]\nname = \"f\"\nurl = \"http://127.0.0.1:9/f.xml\"\n\
         [mail]\ntransport = \"smtp\"\nfrom = \"veille@example.org\"\nsmtp_url = \"{}\"\n",
        sink.url()
    );
    for w in ["w1", "w2", "w3"] {
        toml.push_str(&format!(
            "[[watchlists]]\nname = \"{w}\"\ntopics = [\"eu-us-cyber\"]\nrecipients = [\"{w}@example.org\"]\nschedule = \"0 8 * * *\"\n"
        ));
    }
    let (_, config) = config(dir.path(), &toml);
    seed_match(&config, "f");
    let mut store = Store::open(&config.storage.database).unwrap();
    let composed = Digester::new(&config)
        .unwrap()
        .compose_due(&mut store, Utc::now(), FORCE)
        .unwrap();
    assert_eq!(composed.composed.len(), 3);
    drop(store);

    let sender = |config: Config| async move {
        let mut store = Store::open(&config.storage.database).unwrap();
        let d = Digester::new(&config)
            .unwrap()
            .with_lease(Duration::from_millis(600));
        d.step(&mut store, Utc::now(), DUE)
            .await
            .unwrap()
            .sent
            .len()
    };
    let a = tokio::spawn(sender(config.clone()));
    // The second sender starts while the first is still on its first digest, after that
    // digest's first lease period.
    tokio::time::sleep(Duration::from_millis(900)).await;
    let b = tokio::spawn(sender(config.clone()));
    let (a, b) = (a.await.unwrap(), b.await.unwrap());

    let got = sink.received();
    let mut ids: Vec<String> = got
        .iter()
        .map(|m| {
            let text = String::from_utf8_lossy(&m.data).into_owned();
            text.lines()
                .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
                .unwrap()
                .to_string()
        })
        .collect();
    ids.sort();
    let sent = ids.len();
    ids.dedup();
    assert_eq!(sent, ids.len(), "a digest was mailed twice: {ids:?}");
    assert_eq!((sent, a + b), (3, 3), "a sent {a}, b sent {b}");
    let rows = Store::open(&config.storage.database)
        .unwrap()
        .digests(None)
        .unwrap();
    assert!(
        rows.iter().all(|r| r.status == "sent" && r.attempts == 1),
        "{rows:#?}"
    );
}

// ---- 3. A silent SMTP server froze the whole service ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_smtp_server_does_not_freeze_polling_and_health_reports_the_delivery() {
    let server = TestServer::start().await;
    let sink = SmtpSink::start(Mode::SilentAfterData).await;
    let dir = tempfile::tempdir().unwrap();
    let (_, config) = config(
        dir.path(),
        &format!(
            "[fetch]\nper_host_delay = \"0s\"\nallow_private_networks = true\n\
             [[feeds]]\nname = \"rss2\"\nurl = \"{}\"\nfetch_article = \"never\"\n\
             [mail]\ntransport = \"smtp\"\nfrom = \"veille@example.org\"\nsmtp_url = \"{}\"\ntimeout = \"6s\"\n\
             [[watchlists]]\nname = \"w\"\ntopics = [\"eu-us-cyber\"]\nrecipients = [\"a@example.org\"]\nschedule = \"0 0 1 1 *\"\n",
            server.url("/feeds/rss2.xml"),
            sink.url()
        ),
    );
    seed_match(&config, "rss2");
    let mut store = Store::open(&config.storage.database).unwrap();
    Digester::new(&config)
        .unwrap()
        .compose_due(&mut store, Utc::now(), FORCE)
        .unwrap();
    let digests = veille::digest::Service::new(store, Digester::new(&config).unwrap());
    let pipeline = Pipeline::new(&config, Store::open(&config.storage.database).unwrap()).unwrap();
    let svc = service::service(pipeline, None, Some(digests));
    let (tx, rx) = tokio::sync::watch::channel(None);
    let (addr, http) = service::http::bind(
        "127.0.0.1:0".parse().unwrap(),
        svc.clone(),
        None,
        service::stopped(rx.clone()),
    )
    .await
    .unwrap();
    tokio::spawn(http);
    let runner = {
        let svc = svc.clone();
        tokio::spawn(async move { service::run(&svc, Duration::from_millis(100), rx).await })
    };

    // The server has the data and says nothing; a feed falls due meanwhile: it is polled all
    // the same.
    eventually(10, "the digest's data", || sink.data_attempts() == 1).await;
    // (The first poll must be over, or recording it would set the next check again.)
    eventually(10, "the first poll recorded", || {
        count(
            &config.storage.database,
            "SELECT COUNT(*) FROM feeds WHERE last_fetch_at IS NOT NULL",
        ) == 1
    })
    .await;
    let polls = server.seen("/feeds/rss2.xml").len();
    sql(&config.storage.database)
        .execute("UPDATE feeds SET next_check_at = NULL", [])
        .unwrap();
    eventually(3, "the feed that fell due while mail hangs", || {
        server.seen("/feeds/rss2.xml").len() > polls
    })
    .await;
    assert!(sink.received().is_empty());
    let health = get_json(addr, "/health").await;
    assert_eq!(health["mail"]["state"], "sending", "{health}");
    assert_eq!(health["mail"]["pending"], 1, "{health}");
    // mail.timeout ends the attempt; /health says delivery is failing, and why.
    let mut health = serde_json::Value::Null;
    for _ in 0..100 {
        health = get_json(addr, "/health").await;
        if health["mail"]["state"] == "failing" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(health["mail"]["state"], "failing", "{health}");
    assert_eq!(health["status"], "degraded", "{health}");
    let error = health["mail"]["last_error"].as_str().unwrap();
    assert!(
        error.contains("mail.timeout") && error.contains("6s"),
        "{error}"
    );
    let row = &Store::open(&config.storage.database)
        .unwrap()
        .digests(None)
        .unwrap()[0];
    assert_eq!(
        (row.status.as_str(), row.attempts),
        ("pending", 1),
        "{row:?}"
    );

    tx.send(Some(Signal::Stop)).unwrap();
    tokio::time::timeout(Duration::from_secs(15), runner)
        .await
        .expect("stops")
        .unwrap()
        .unwrap();
}

// ---- 5. SIGHUP did not reload watch lists or mail settings ----

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_watch_lists_mail_and_fetch_settings_and_names_what_needs_a_restart() {
    let server = TestServer::start().await;
    let sink = SmtpSink::start(Mode::Accept).await;
    let dir = tempfile::tempdir().unwrap();
    let write = |version: u32, recipient: &str, schedule: &str, database: &str| {
        let toml = format!(
            "[storage]\ndatabase = \"{database}\"\n\
             [fetch]\nuser_agent = \"veille-test/{version}\"\nper_host_delay = \"0s\"\nallow_private_networks = true\n\
             [[feeds]]\nname = \"cyber\"\nurl = \"{}\"\nfetch_article = \"never\"\n\
             [mail]\ntransport = \"smtp\"\nfrom = \"veille@example.org\"\nsmtp_url = \"{}\"\n\
             [[watchlists]]\nname = \"w\"\ntopics = [\"eu-us-cyber\"]\nrecipients = [\"{recipient}\"]\nschedule = \"{schedule}\"\n",
            server.url("/feeds/cyber-news.xml"),
            sink.url()
        );
        let path = dir.path().join("veille.toml");
        std::fs::write(&path, toml).unwrap();
        path
    };
    let path = write(1, "before@example.org", "0 0 1 1 *", "veille.db");
    let db = dir.path().join("veille.db");
    let mut child = spawn_run(&path, "100ms");
    let pid = child.id().unwrap().to_string();
    let server = &server;
    let ua = |v: &str| {
        let v = v.to_string();
        move || {
            server
                .seen("/feeds/cyber-news.xml")
                .iter()
                .any(|s| s.user_agent.as_deref() == Some(v.as_str()))
        }
    };
    eventually(20, "the first poll", ua("veille-test/1")).await;
    let schedule = |db: &Path| -> Option<String> {
        db.exists()
            .then(|| {
                sql(db)
                    .query_row("SELECT schedule FROM watchlist_state", [], |r| r.get(0))
                    .ok()
            })
            .flatten()
    };
    eventually(20, "the yearly schedule", || {
        schedule(&db).as_deref() == Some("0 0 1 1 * UTC")
    })
    .await;

    // New recipients, a schedule that fires, a new user agent — and a new database path, which
    // only a restart can change.
    write(2, "after@example.org", "* * * * *", "elsewhere.db");
    let kill = |sig: &str| {
        std::process::Command::new("kill")
            .args([sig, &pid])
            .status()
            .unwrap()
    };
    assert!(kill("-HUP").success());
    eventually(20, "the reloaded schedule", || {
        schedule(&db).as_deref() == Some("* * * * * UTC")
    })
    .await;
    let c = sql(&db);
    c.execute(
        "UPDATE watchlist_state SET next_fire_at = ?1",
        [Utc::now() - chrono::Duration::minutes(1)],
    )
    .unwrap();
    c.execute("UPDATE feeds SET next_check_at = NULL", [])
        .unwrap();
    eventually(20, "a digest to the new recipient", || {
        !sink.received().is_empty()
    })
    .await;
    assert_eq!(sink.received()[0].to, ["after@example.org"]);
    eventually(20, "a fetch with the new user agent", ua("veille-test/2")).await;

    assert!(kill("-TERM").success());
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .await
        .unwrap();
    child.wait().await.unwrap();
    assert!(log.contains("configuration reloaded"), "{log}");
    assert!(
        log.contains("storage.database") && log.contains("restart"),
        "the log must name what needs a restart: {log}"
    );
    assert!(!dir.path().join("elsewhere.db").exists());
}

// ---- 6. Deleting the database while the service runs was silent ----

async fn database_swapped_stops_the_service(replace: bool) {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = super::poll::write_config(dir.path(), &server, &[("rss2", "/feeds/rss2.xml")]);
    let db = dir.path().join("veille.db");
    let mut child = spawn_run(&path, "100ms");
    eventually(20, "the first poll", || {
        count_if_ready(
            &db,
            "SELECT COUNT(*) FROM feeds WHERE last_success_at IS NOT NULL",
        ) == 1
    })
    .await;
    if replace {
        let copy = dir.path().join("copy.db");
        std::fs::copy(&db, &copy).unwrap();
        std::fs::rename(&copy, &db).unwrap();
    } else {
        std::fs::remove_file(&db).unwrap();
    }
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("the service must stop when its database file goes")
        .unwrap();
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .await
        .unwrap();
    assert!(!status.success(), "{log}");
    let what = if replace {
        "was replaced by another file while veille was running"
    } else {
        "was deleted while veille was running"
    };
    assert!(log.contains(what), "{log}");
    assert!(log.contains(&db.display().to_string()), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_deleted_while_running_stops_the_service_with_a_clear_error() {
    database_swapped_stops_the_service(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_replaced_while_running_stops_the_service_with_a_clear_error() {
    database_swapped_stops_the_service(true).await;
}

// ---- 7. The health server never closed connections with unfinished headers ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_server_closes_connections_with_unfinished_headers_and_limits_them() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = super::poll::write_config(dir.path(), &server, &[("rss2", "/feeds/rss2.xml")]);
    let config = Config::from_file(&path).unwrap();
    let pipeline = Pipeline::new(&config, Store::open(&config.storage.database).unwrap()).unwrap();
    let svc = service::service(pipeline, None, None);
    let (_tx, rx) = tokio::sync::watch::channel(None);
    let (addr, http) = service::http::bind(
        "127.0.0.1:0".parse().unwrap(),
        svc.clone(),
        None,
        service::stopped(rx),
    )
    .await
    .unwrap();
    tokio::spawn(http);
    half_requests_are_closed_by_the_header_timeout(addr, "/health").await;
    // The server still answers.
    let health = get_json(addr, "/health").await;
    assert_eq!(health["status"], "ok", "{health}");
}

/// Opens twice the connection limit of connections to `addr`, each sending half a request for
/// `path` and then nothing, and checks that the server closes every one within its header
/// timeout (a few seconds' grace).
async fn half_requests_are_closed_by_the_header_timeout(addr: SocketAddr, path: &str) {
    // Twice the connection limit, each sending half a request and then nothing.
    let n = 2 * service::http::MAX_CONNECTIONS;
    let mut socks = Vec::new();
    for _ in 0..n {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nX-Slow: ").as_bytes())
            .await
            .unwrap();
        socks.push(s);
    }
    let started = tokio::time::Instant::now();
    let limit = service::http::HEADER_TIMEOUT + Duration::from_secs(3);
    let mut closed = 0;
    for mut s in socks {
        let left = limit.saturating_sub(started.elapsed());
        let mut buf = [0u8; 512];
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            // Closed by the server (EOF, a reset, or a 408 then EOF).
            Ok(Ok(_)) | Ok(Err(_)) => closed += 1,
            Err(_) => {}
        }
    }
    assert_eq!(closed, n, "connections left open past the header timeout");
}

// Regression (merge of the web view with issue 15): `veille serve` served the web view with
// axum's own loop, without the header timeout or the connection limit of the service listener.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_view_alone_closes_connections_with_unfinished_headers_and_limits_them() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = super::poll::write_config(dir.path(), &server, &[("rss2", "/feeds/rss2.xml")]);
    let config = Config::from_file(&path).unwrap();
    drop(Store::open(&config.storage.database).unwrap());
    let app = veille::web::router(&config).unwrap();
    let (_tx, rx) = tokio::sync::watch::channel(None);
    let (addr, http) =
        veille::web::serve("127.0.0.1:0".parse().unwrap(), app, service::stopped(rx))
            .await
            .unwrap();
    tokio::spawn(http);
    half_requests_are_closed_by_the_header_timeout(addr, "/").await;
    // The web view still answers.
    let page = reqwest::Client::new()
        .get(format!("http://{addr}/"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
}

// The accept loop that replaced axum's keeps its graceful stop: a request under way at shutdown
// is answered, an idle kept-alive connection does not hold the stop up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_shutdown_a_request_under_way_is_answered_and_idle_connections_do_not_delay_the_stop() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = super::poll::write_config(dir.path(), &server, &[("rss2", "/feeds/rss2.xml")]);
    let config = Config::from_file(&path).unwrap();
    let pipeline = Pipeline::new(&config, Store::open(&config.storage.database).unwrap()).unwrap();
    let svc = service::service(pipeline, None, None);
    // The handler says when the request is under way (a fixed wait before the stop raced with
    // the request's connection on a loaded machine).
    let under_way = std::sync::Arc::new(tokio::sync::Notify::new());
    let started = under_way.clone();
    let slow = Router::new().route(
        "/slow",
        get(move || {
            let started = started.clone();
            async move {
                started.notify_one();
                tokio::time::sleep(Duration::from_millis(800)).await;
                "done"
            }
        }),
    );
    let (tx, rx) = tokio::sync::watch::channel(None);
    let (addr, http) = service::http::bind(
        "127.0.0.1:0".parse().unwrap(),
        svc.clone(),
        Some(slow),
        service::stopped(rx),
    )
    .await
    .unwrap();
    let http = tokio::spawn(http);
    // An idle kept-alive connection: one request answered, then nothing.
    let mut idle = tokio::net::TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 4096];
    assert!(idle.read(&mut buf).await.unwrap() > 0);
    let slow = tokio::spawn(async move {
        reqwest::Client::new()
            .get(format!("http://{addr}/slow"))
            .timeout(Duration::from_secs(5))
            .send()
            .await?
            .text()
            .await
    });
    tokio::time::timeout(Duration::from_secs(10), under_way.notified())
        .await
        .expect("the slow request reaches its handler");
    let stopping = tokio::time::Instant::now();
    tx.send(Some(Signal::Stop)).unwrap();
    assert_eq!(
        slow.await
            .unwrap()
            .expect("the request under way is answered"),
        "done"
    );
    tokio::time::timeout(Duration::from_secs(3), http)
        .await
        .expect("the server stops without waiting for the idle connection")
        .unwrap()
        .unwrap();
    assert!(stopping.elapsed() < service::http::DRAIN_TIMEOUT);
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(1), idle.read(&mut buf))
            .await
            .expect("the idle connection is closed")
            .unwrap_or(0),
        0
    );
}

// ---- 8. Storage errors got no backoff and did not show in health ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_errors_back_off_are_counted_and_show_in_health() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = super::poll::write_config(dir.path(), &server, &[("rss2", "/nocache/rss2.xml")]);
    let config = Config::from_file(&path).unwrap();
    let pipeline = Pipeline::new(&config, Store::open(&config.storage.database).unwrap()).unwrap();
    // From now on every write fails as on a full disk.
    sql(&config.storage.database)
        .execute_batch(
            "CREATE TRIGGER full_items BEFORE INSERT ON items BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END;
             CREATE TRIGGER full_feeds BEFORE UPDATE ON feeds BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END;",
        )
        .unwrap();
    let svc = service::service(pipeline, None, None);
    let (tx, rx) = tokio::sync::watch::channel(None);
    let (addr, http) = service::http::bind(
        "127.0.0.1:0".parse().unwrap(),
        svc.clone(),
        None,
        service::stopped(rx.clone()),
    )
    .await
    .unwrap();
    tokio::spawn(http);
    let runner = {
        let svc = svc.clone();
        tokio::spawn(async move { service::run(&svc, Duration::from_millis(50), rx).await })
    };
    eventually(10, "the first poll", || {
        !server.seen("/nocache/rss2.xml").is_empty()
    })
    .await;
    // Forty ticks later the feed was not fetched again.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(server.seen("/nocache/rss2.xml").len(), 1, "no backoff");
    let health = get_json(addr, "/health").await;
    assert_eq!(health["status"], "degraded", "{health}");
    assert_eq!(health["storage"]["errors_total"], 1, "{health}");
    assert_eq!(health["storage"]["consecutive"], 1, "{health}");
    let error = health["storage"]["last_error"].as_str().unwrap();
    assert!(error.contains("disk is full"), "{error}");
    let metrics = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("veille_storage_errors_total 1"),
        "{metrics}"
    );
    tx.send(Some(Signal::Stop)).unwrap();
    runner.await.unwrap().unwrap();
}

// ---- 9. A hidden read timeout ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hidden_read_timeout_no_longer_cuts_a_slow_feed_and_each_timeout_names_itself() {
    let site = Site::start().await;
    let dir = tempfile::tempdir().unwrap();
    let poll = |timeout: &str, path: &str| {
        let (_, config) = config(
            dir.path(),
            &format!(
                "[fetch]\ntimeout = \"{timeout}\"\nconnect_timeout = \"1s\"\nper_host_delay = \"0s\"\n\
                 [[feeds]]\nname = \"slow\"\nurl = \"{}\"\nfetch_article = \"never\"\n",
                site.url(path)
            ),
        );
        async move {
            let p = Pipeline::new(&config, Store::open(&config.storage.database).unwrap()).unwrap();
            let mut out = None;
            p.poll(true, |r, _| out = Some(r.outcome.clone()))
                .await
                .unwrap();
            out.unwrap()
        }
    };
    // Answering after 6 s is within a 10 s timeout (the read wait followed connect_timeout,
    // at least 5 s, and failed it saying "timed out after 10 s").
    let outcome = poll("10s", "/slow/6000").await;
    assert!(
        matches!(outcome, Outcome::Updated { new: 1, .. }),
        "{outcome:?}"
    );
    // The timeout that fires says which it is.
    match poll("1s", "/slow/3000").await {
        Outcome::Failed { error, .. } => assert!(
            error.contains("timed out after 1s") && error.contains("fetch.timeout"),
            "{error}"
        ),
        other => panic!("{other:?}"),
    }
}

// ---- 10. Panics on values `check` accepted ----

#[tokio::test(flavor = "multi_thread")]
async fn check_rejects_absurd_durations_and_never_firing_cron_and_tick_zero_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("veille.toml");
    let feed = "[[feeds]]\nname = \"a\"\nurl = \"http://127.0.0.1:9/a.xml\"\n";
    let cases = [
        (
            format!("{feed}every = \"100000000000y\"\n"),
            "feeds[0].every",
            "too long",
        ),
        (
            "[fetch]\ntimeout = \"0s\"\n".to_string(),
            "fetch.timeout",
            "too short",
        ),
        (
            "[fetch]\nper_host_delay = \"1000000d\"\n".to_string(),
            "fetch.per_host_delay",
            "too long",
        ),
        (
            format!(
                "{feed}[[watchlists]]\nname = \"w\"\ntopics = [\"eu-us-cyber\"]\nrecipients = [\"a@example.org\"]\nschedule = \"0 8 31 2 *\"\n"
            ),
            "watchlists[0].schedule",
            "never fires",
        ),
    ];
    for (toml, key, why) in cases {
        std::fs::write(&path, &toml).unwrap();
        let out = veille(&["--config", path.to_str().unwrap(), "check"]).await;
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{toml}: {err}");
        assert!(err.contains(key) && err.contains(why), "{toml}: {err}");
    }
    std::fs::write(&path, feed).unwrap();
    let out = veille(&["--config", path.to_str().unwrap(), "run", "--tick", "0s"]).await;
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--tick") && err.contains("too short"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

// ---- 11. Control characters passed through ----

fn unsafe_chars(s: &str) -> Vec<char> {
    s.chars()
        .filter(|c| matches!(c, '\u{0}' | '\u{7}' | '\u{1b}' | '\u{202e}'))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_from_a_feed_reach_neither_items_nor_digests() {
    let site = Site::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (path, config) = config(
        dir.path(),
        &format!(
            "[fetch]\nper_host_delay = \"0s\"\n\
             [[feeds]]\nname = \"controls\"\nurl = \"{}\"\nfetch_article = \"never\"\n\
             [[watchlists]]\nname = \"w\"\ntopics = [\"eu-us-cyber\"]\nrecipients = [\"a@example.org\"]\nschedule = \"0 8 * * *\"\n",
            site.url("/controls")
        ),
    );
    let cfg = path.to_str().unwrap();
    let out = veille(&["--config", cfg, "poll", "--all"]).await;
    assert!(
        text(&out.stdout).contains("1 new item,"),
        "{}",
        text(&out.stdout)
    );
    let title: String = sql(&config.storage.database)
        .query_row("SELECT title FROM items", [], |r| r.get(0))
        .unwrap();
    assert!(unsafe_chars(&title).is_empty(), "{title:?}");
    assert!(
        title.contains("EU and United States hold annual cyber dialogue"),
        "{title:?}"
    );
    for args in [vec!["items"], vec!["items", "--json"]] {
        let out = veille(&[&["--config", cfg][..], &args].concat()).await;
        let shown = text(&out.stdout);
        assert!(shown.contains("cyber dialogue"), "{shown}");
        assert!(unsafe_chars(&shown).is_empty(), "{args:?}: {shown:?}");
    }
    let html = dir.path().join("digest.html");
    let out = veille(&[
        "--config",
        cfg,
        "digest",
        "--watchlist",
        "w",
        "--preview",
        "--html",
        html.to_str().unwrap(),
    ])
    .await;
    let digest_text = text(&out.stdout);
    assert!(digest_text.contains("cyber dialogue"), "{digest_text}");
    assert!(unsafe_chars(&digest_text).is_empty(), "{digest_text:?}");
    let digest_html = std::fs::read_to_string(&html).unwrap();
    assert!(unsafe_chars(&digest_html).is_empty(), "{digest_html:?}");
}

// ---- 12. Huge titles were kept whole ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_titles_are_capped_say_so_and_the_digest_stays_small() {
    let site = Site::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (path, config) = config(
        dir.path(),
        &format!(
            "[fetch]\nper_host_delay = \"0s\"\n\
             [[feeds]]\nname = \"huge\"\nurl = \"{}\"\nfetch_article = \"never\"\n\
             [[watchlists]]\nname = \"w\"\ntopics = [\"eu-us-cyber\"]\nrecipients = [\"a@example.org\"]\nschedule = \"0 8 * * *\"\n",
            site.url("/huge-titles")
        ),
    );
    let cfg = path.to_str().unwrap();
    let out = veille(&["--config", cfg, "poll", "--all"]).await;
    assert!(
        text(&out.stdout).contains("8 new items"),
        "{}",
        text(&out.stdout)
    );
    let c = sql(&config.storage.database);
    let mut stmt = c.prepare("SELECT title FROM items").unwrap();
    let titles: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(titles.len(), 8);
    for t in &titles {
        assert!(t.chars().count() <= 500, "{} characters", t.chars().count());
        assert!(t.ends_with("[title truncated by veille]"), "{t}");
    }
    let out = veille(&["--config", cfg, "digest", "--watchlist", "w", "--preview"]).await;
    let digest = text(&out.stdout);
    assert!(
        digest.contains("[title truncated by veille]"),
        "{digest:.2000}"
    );
    assert!(
        digest.len() < 64 * 1024,
        "a digest of {} bytes",
        digest.len()
    );
}

// ---- 13. IPv6 forms that embed an IPv4 address ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv6_forms_embedding_a_private_ipv4_address_are_blocked_by_the_guard() {
    let site = Site::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (_, config) = config(
        dir.path(),
        &format!(
            "[fetch]\ntimeout = \"3s\"\nconnect_timeout = \"1s\"\nper_host_delay = \"0s\"\n\
             [[feeds]]\nname = \"links\"\nurl = \"{}\"\nfetch_article = \"always\"\n",
            site.url("/ipv6-links")
        ),
    );
    let p = Pipeline::new(&config, Store::open(&config.storage.database).unwrap()).unwrap();
    let summary = p.poll(true, |_, _| {}).await.unwrap();
    assert_eq!(summary.new_items, 4, "{summary}");
    let c = sql(&config.storage.database);
    let mut stmt = c
        .prepare("SELECT url, article_status FROM items ORDER BY guid")
        .unwrap();
    let rows: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), 4);
    for (url, status) in rows {
        assert!(
            status.starts_with("fetch_failed: blocked: "),
            "{url}: {status}"
        );
    }
}

// ---- 14. A feed that changes every guid on every poll ----

#[tokio::test(flavor = "multi_thread")]
async fn feed_changing_every_guid_on_every_poll_adds_nothing_and_is_reported() {
    let site = Site::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (path, config) = config(
        dir.path(),
        &format!(
            "[fetch]\nper_host_delay = \"0s\"\n\
             [[feeds]]\nname = \"churn\"\nurl = \"{}\"\nfetch_article = \"never\"\n",
            site.url("/churn")
        ),
    );
    let cfg = path.to_str().unwrap();
    let db = &config.storage.database;
    let out = veille(&["--config", cfg, "poll", "--all"]).await;
    assert!(
        text(&out.stdout).contains("50 new items"),
        "{}",
        text(&out.stdout)
    );
    for _ in 0..2 {
        let out = veille(&["--config", cfg, "poll", "--all"]).await;
        assert!(
            text(&out.stdout).contains("0 new items, 0 updated"),
            "{}",
            text(&out.stdout)
        );
    }
    assert_eq!(site.hits("/churn").len(), 3);
    assert_eq!(count(db, "SELECT COUNT(*) FROM items"), 50);
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM item_sources"),
        50,
        "no row per poll"
    );
    let out = veille(&["--config", cfg, "feeds"]).await;
    let table = text(&out.stdout);
    assert!(
        table.contains("guids change between polls: 50 items recognised by link or content"),
        "{table}"
    );
    // The web view's feeds page says it too.
    let (status, page) = super::web::page_in_process(&config, "/feeds").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("guids change between polls: 50 items recognised by link or content"),
        "{page}"
    );
}

// ---- Also seen ----

/// Makes `file` read-only even for root (`chattr +i`), or says why it cannot.
#[cfg(unix)]
fn make_read_only(file: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o444)).unwrap();
    let writable = |f: &Path| std::fs::OpenOptions::new().append(true).open(f).is_ok();
    if !writable(file) {
        return Ok(());
    }
    let chattr = std::process::Command::new("chattr")
        .arg("+i")
        .arg(file)
        .output();
    match chattr {
        Ok(o) if o.status.success() && !writable(file) => Ok(()),
        Ok(o) => Err(format!("chattr +i: {}", text(&o.stderr))),
        Err(e) => Err(format!("chattr: {e}")),
    }
}

#[cfg(unix)]
fn undo_read_only(file: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::process::Command::new("chattr")
        .arg("-i")
        .arg(file)
        .output();
    let _ = std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o644));
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn read_only_database_at_start_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (path, config) = config(
        dir.path(),
        "[[feeds]]\nname = \"a\"\nurl = \"http://127.0.0.1:9/a.xml\"\n",
    );
    let cfg = path.to_str().unwrap();
    let db = &config.storage.database;
    // Create the database (`veille feeds` no longer does: it only reads, issue 16).
    drop(Store::open(db).unwrap());
    assert!(db.exists());
    if let Err(why) = make_read_only(db) {
        undo_read_only(db);
        println!("skipped: cannot make the database read-only here ({why})");
        return;
    }
    let out = veille(&["--config", cfg, "poll"]).await;
    undo_read_only(db);
    let err = text(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains(&db.display().to_string()), "{err}");
    assert!(err.contains("cannot be written"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn digest_on_a_damaged_database_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (path, config) = config(
        dir.path(),
        "[[feeds]]\nname = \"a\"\nurl = \"http://127.0.0.1:9/a.xml\"\n\
         [mail]\noutbox = \"out\"\n\
         [[watchlists]]\nname = \"w\"\ntopics = [\"eu-us-cyber\"]\nrecipients = [\"a@example.org\"]\nschedule = \"0 8 * * *\"\n",
    );
    let cfg = path.to_str().unwrap();
    let db = &config.storage.database;
    seed_match(&config, "a");
    // Checkpoint the WAL into the file, then overwrite pages 3 to 5 of it.
    sql(db)
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
    let mut bytes = std::fs::read(db).unwrap();
    assert!(bytes.len() > 6 * 4096, "{} bytes", bytes.len());
    bytes[2 * 4096..5 * 4096].fill(0x41);
    std::fs::write(db, bytes).unwrap();
    let out = veille(&["--config", cfg, "digest", "--send", "--now"]).await;
    let err = text(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("malformed"), "{err}");
    assert!(err.contains(&db.display().to_string()), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_does_not_stall_while_another_process_holds_the_write_lock() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    // A feed to store and a failing one to record: both writes wait for the lock.
    let path = super::poll::write_config(
        dir.path(),
        &server,
        &[("rss2", "/feeds/rss2.xml"), ("down", "/status/500")],
    );
    let config = Config::from_file(&path).unwrap();
    let pipeline = Pipeline::new(&config, Store::open(&config.storage.database).unwrap()).unwrap();
    let svc = service::service(pipeline, None, None);
    let (tx, rx) = tokio::sync::watch::channel(None);
    let (addr, http) = service::http::bind(
        "127.0.0.1:0".parse().unwrap(),
        svc.clone(),
        None,
        service::stopped(rx.clone()),
    )
    .await
    .unwrap();
    tokio::spawn(http);
    // Another process takes the write lock and keeps it.
    let holder = sql(&config.storage.database);
    holder
        .execute_batch("BEGIN IMMEDIATE; UPDATE feeds SET title = 'locked';")
        .unwrap();
    let runner = {
        let svc = svc.clone();
        tokio::spawn(async move { service::run(&svc, Duration::from_millis(100), rx).await })
    };
    // The poll fetched a feed and now waits for the lock to store what it got. Which feed comes
    // first depends on the order the poll takes them in; while the first one's write waits for
    // the lock (up to the 10 s busy timeout), the poll does not fetch the other.
    eventually(10, "the poll's fetch", || {
        !server.seen("/feeds/rss2.xml").is_empty() || !server.seen("/status/500").is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = std::time::Instant::now();
    let health = get_json(addr, "/health").await;
    let waited = started.elapsed();
    assert_eq!(health["feeds"]["total"], 2, "{health}");
    assert!(
        waited < Duration::from_millis(1500),
        "/health took {waited:?}"
    );
    holder.execute_batch("ROLLBACK;").unwrap();
    tx.send(Some(Signal::Stop)).unwrap();
    tokio::time::timeout(Duration::from_secs(20), runner)
        .await
        .expect("stops")
        .unwrap()
        .unwrap();
}

// ---- 4. (the cost of markup: only for changed items) ----

#[tokio::test(flavor = "multi_thread")]
async fn unchanged_items_are_recognised_before_their_markup_is_turned_into_text() {
    // The nesting itself is timed by `examples/nesting.rs`; here: a poll of a feed that did not
    // change finishes none of its items.
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = super::poll::write_config(dir.path(), &server, &[("rss2", "/nocache/rss2.xml")]);
    let config = Config::from_file(&path).unwrap();
    let p = Pipeline::new(&config, Store::open(&config.storage.database).unwrap()).unwrap();
    p.poll(true, |_, _| {}).await.unwrap();
    let body = std::fs::read(super::server::fixtures().join("rss2.xml")).unwrap();
    let page = veille::pipeline::sources::parse_page_raw(
        &body,
        None,
        &server.url("/nocache/rss2.xml"),
        &veille::pipeline::sources::Source::Rss,
    )
    .unwrap();
    let feed = p.store().feeds().unwrap()[0].id;
    let known = p.store().recognise(feed, &page.feed.items).unwrap();
    assert_eq!(known.len(), 3);
    assert!(
        known
            .iter()
            .all(|k| matches!(k, Some(veille::store::Seen::Unchanged(_)))),
        "{known:?}"
    );
    // An edited item is not recognised: it is finished and compared by its text.
    let mut edited = page.feed.items.clone();
    edited[0].summary_html = Some("<p>An edited summary.</p>".into());
    let known = p.store().recognise(feed, &edited).unwrap();
    assert_eq!(known[0], None);
}
