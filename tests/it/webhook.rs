//! Chat delivery end to end on real parts: a loopback HTTP endpoint that records every POST and
//! answers what the test scripts, a SQLite file, the outbox and the SMTP sink, and the real
//! `veille run` binary killed with SIGKILL at random moments.

use std::collections::{BTreeMap, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use chrono::{DateTime, Utc};
use serde_json::Value;
use veille::config::Config;
use veille::digest::{Digester, Scope};
use veille::model::ParsedItem;
use veille::store::{NewItem, Store, StoredMatch};

use super::smtp::{Mode, SmtpSink};

const FORCE: Scope<'static> = Scope {
    watchlist: None,
    force: true,
};
const DUE: Scope<'static> = Scope {
    watchlist: None,
    force: false,
};
/// The secret part of the endpoint's path: it must never show in errors, status or logs.
const SECRET: &str = "T0-s3cr3t-B0";

/// One POST the endpoint received, and what it answered.
#[derive(Debug, Clone)]
struct Post {
    name: String,
    key: Option<String>,
    content_type: Option<String>,
    body: Vec<u8>,
    status: u16,
}

impl Post {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("the body is JSON")
    }
}

/// A webhook endpoint on loopback: `POST /hook/{SECRET}/{name}`.
#[derive(Default)]
struct Endpoint {
    /// Statuses to answer next, in order; 200 once empty.
    script: Mutex<VecDeque<u16>>,
    /// `Retry-After` values to send with the next failing answers, in order.
    retry_after: Mutex<VecDeque<String>>,
    /// Answer 500 to this percentage of posts (after the script).
    fail_percent: AtomicU64,
    /// Take up to this long to answer.
    max_delay_ms: AtomicU64,
    /// Posts that reached the handler (some never get their answer out: cut by a kill).
    arrived: AtomicU64,
    /// A process to kill with SIGKILL once the next post is recorded, before it is answered:
    /// the endpoint has the post, the sender never learns it.
    kill_on_next: Mutex<Option<u32>>,
    posts: Mutex<Vec<Post>>,
}

impl Endpoint {
    async fn start() -> (Arc<Endpoint>, String) {
        let state = Arc::new(Endpoint::default());
        let app = Router::new()
            .route("/hook/{secret}/{name}", post(receive))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (state, format!("http://{addr}/hook/{SECRET}"))
    }

    fn posts(&self) -> Vec<Post> {
        self.posts.lock().unwrap().clone()
    }
}

async fn receive(
    State(s): State<Arc<Endpoint>>,
    UrlPath((secret, name)): UrlPath<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, HeaderMap) {
    assert_eq!(secret, SECRET);
    s.arrived.fetch_add(1, Ordering::Relaxed);
    let delay = s.max_delay_ms.load(Ordering::Relaxed);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(random_below(delay))).await;
    }
    let status = match s.script.lock().unwrap().pop_front() {
        Some(code) => code,
        None if random_below(100) < s.fail_percent.load(Ordering::Relaxed) => 500,
        None => 200,
    };
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    s.posts.lock().unwrap().push(Post {
        name,
        key: header("idempotency-key"),
        content_type: header("content-type"),
        body: body.to_vec(),
        status,
    });
    if let Some(pid) = s.kill_on_next.lock().unwrap().take() {
        let killed = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
    }
    let mut answer = HeaderMap::new();
    if status >= 300
        && let Some(v) = s.retry_after.lock().unwrap().pop_front()
    {
        answer.insert("retry-after", v.parse().unwrap());
    }
    (StatusCode::from_u16(status).unwrap(), answer)
}

fn random_below(n: u64) -> u64 {
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
        % n
}

/// A configuration with one (disabled) feed, the `[mail]` table given and one watch list per
/// `(name, recipients, webhook format)`.
fn write_config(dir: &Path, hook: &str, mail: &str, lists: &[(&str, bool, &str)]) -> PathBuf {
    let mut toml = format!(
        "[storage]\ndatabase = \"veille.db\"\n[fetch]\nper_host_delay = \"0s\"\n{mail}\n[[feeds]]\nname = \"f1\"\nurl = \"http://127.0.0.1:9/f1.xml\"\nenabled = false\n"
    );
    for (name, mailed, format) in lists {
        toml.push_str(&format!(
            "[[watchlists]]\nname = \"{name}\"\ntopics = [\"eu-nato-cyber\"]\nschedule = \"0 8 * * 1-5\"\nwebhook = {{ url = \"{hook}/{name}\", format = \"{format}\" }}\n"
        ));
        if *mailed {
            toml.push_str("recipients = [\"analyst@example.org\"]\n");
        }
    }
    let path = dir.join("veille.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

/// Stores two matching items (one with a link the chat formats must escape) in feed `f1`.
fn seed(config: &Config, now: DateTime<Utc>) -> Store {
    let mut store = Store::open(&config.storage.database).unwrap();
    store.sync_feeds(&config.feeds, now).unwrap();
    let feed = store.feeds().unwrap()[0].id;
    let item = |guid: &str, title: &str, url: &str, lang: &str, score: f64| NewItem {
        parsed: ParsedItem {
            guid: guid.into(),
            url: Some(url.into()),
            canonical_url: Some(url.into()),
            title: title.into(),
            text: format!("{title}. The EU and NATO discussed cyber defence."),
            published: Some(now - chrono::Duration::hours(3)),
            ..ParsedItem::default()
        },
        language: Some(lang.into()),
        language_source: None,
        matches: vec![StoredMatch {
            topic: "eu-nato-cyber".into(),
            score,
            evidence_json: "[]".into(),
        }],
        article: None,
        links: None,
        hashes: None,
        prepared: None,
    };
    store
        .store_items(
            feed,
            &[
                item(
                    "a",
                    "EU & NATO <cyber> dialogue",
                    "https://news.example/a?x=1&y=2",
                    "en",
                    0.9,
                ),
                item(
                    "b",
                    "Cyber-Übung der NATO",
                    "https://news.example/b",
                    "de",
                    0.7,
                ),
            ],
            now,
        )
        .unwrap();
    store
}

/// Nothing composed, sent or posted. A watch list may fire meanwhile (the schedule is a real
/// `0 8 * * 1-5`: a step hours after `Utc::now()` crosses 08:00 on a weekday morning) and skip,
/// having nothing new: that is not a delivery.
#[track_caller]
fn assert_nothing_delivered(r: &veille::digest::StepReport) {
    assert!(
        r.composed.is_empty()
            && r.sent.is_empty()
            && r.failed.is_empty()
            && r.posted.is_empty()
            && r.post_failed.is_empty(),
        "{r:?}"
    );
}

fn outbox_files(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("out")).map_or(0, |d| d.count())
}

#[tokio::test]
async fn each_format_is_posted_in_its_shape_with_the_digest_id_as_idempotency_key() {
    let (endpoint, hook) = Endpoint::start().await;
    let dir = tempfile::tempdir().unwrap();
    let lists = [
        ("to-slack", false, "slack"),
        ("to-teams", false, "teams"),
        ("to-json", false, "json"),
        ("both", true, "json"),
    ];
    let config = write_config(dir.path(), &hook, "[mail]\noutbox = \"out\"\n", &lists);
    let config = Config::from_file(&config).unwrap();
    let now = Utc::now();
    let mut store = seed(&config, now);
    let digester = Digester::new(&config).unwrap();
    let r = digester.step(&mut store, now, FORCE).await.unwrap();
    assert_eq!(
        (r.composed.len(), r.posted.len(), r.sent.len()),
        (4, 4, 1),
        "only `both` is mailed: {r:?}"
    );
    assert_eq!(outbox_files(dir.path()), 1);

    let rows = store.digests(None).unwrap();
    let posts = endpoint.posts();
    assert_eq!(posts.len(), 4);
    let by_name = |n: &str| posts.iter().find(|p| p.name == n).unwrap();
    for (name, mailed, _) in lists {
        let row = rows.iter().find(|d| d.watchlist == name).unwrap();
        let p = by_name(name);
        assert_eq!(p.key.as_deref(), Some(row.message_id.as_str()), "{name}");
        assert_eq!(p.content_type.as_deref(), Some("application/json"));
        assert_eq!(row.status, "sent");
        assert_eq!(row.mail_status.as_deref(), mailed.then_some("sent"));
        let w = row.webhook.as_ref().unwrap();
        assert_eq!((w.status.as_str(), w.attempts), ("sent", 1));
        assert_eq!(w.host, "127.0.0.1");
    }

    let slack = by_name("to-slack").json();
    assert_eq!(slack.as_object().unwrap().len(), 1, "{slack}");
    let text = slack["text"].as_str().unwrap();
    assert!(
        text.starts_with("*[veille] to-slack — 2 new items"),
        "{text}"
    );
    assert!(
        text.contains("<https://news.example/a?x=1&y=2|EU &amp; NATO &lt;cyber&gt; dialogue>"),
        "{text}"
    );
    assert!(
        text.contains("<https://news.example/b|Cyber-Übung der NATO>"),
        "{text}"
    );

    let teams = by_name("to-teams").json();
    assert_eq!(teams["type"], "message");
    let card = &teams["attachments"][0];
    assert_eq!(
        card["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(card["content"]["type"], "AdaptiveCard");
    assert_eq!(card["content"]["version"], "1.4");
    let blocks = card["content"]["body"].as_array().unwrap();
    assert!(
        blocks
            .iter()
            .all(|b| b["type"] == "TextBlock" && b["wrap"] == true)
    );
    let all: Vec<&str> = blocks.iter().map(|b| b["text"].as_str().unwrap()).collect();
    assert!(
        all.iter()
            .any(|t| t.contains("[Cyber-Übung der NATO](https://news.example/b)")),
        "{all:?}"
    );

    let json = by_name("to-json").json();
    let row = rows.iter().find(|d| d.watchlist == "to-json").unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(json["id"], row.message_id.as_str());
    assert_eq!(json["watchlist"], "to-json");
    let period_from: DateTime<Utc> = json["period"]["from"].as_str().unwrap().parse().unwrap();
    let period_to: DateTime<Utc> = json["period"]["to"].as_str().unwrap().parse().unwrap();
    assert!(period_from < now && (period_to - now).num_seconds().abs() < 2);
    let items = json["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let a = items
        .iter()
        .find(|i| i["url"] == "https://news.example/a?x=1&y=2")
        .unwrap();
    assert_eq!(a["title"], "EU & NATO <cyber> dialogue");
    assert_eq!(a["feed"], "f1");
    assert_eq!(a["language"], "en");
    assert_eq!(a["topics"][0]["topic"], "eu-nato-cyber");
    assert_eq!(a["topics"][0]["score"], 0.9);
    assert!(
        a["published"]
            .as_str()
            .unwrap()
            .parse::<DateTime<Utc>>()
            .is_ok()
    );

    // Delivered: nothing is posted or mailed again.
    let r = digester
        .step(&mut store, now + chrono::Duration::hours(2), DUE)
        .await
        .unwrap();
    assert!(r.posted.is_empty() && r.sent.is_empty(), "{r:?}");
    assert_eq!(endpoint.posts().len(), 4);
    assert_eq!(store.pending_summary().unwrap().0, 0);
}

#[tokio::test]
async fn a_500_is_retried_after_backoff_and_the_mail_is_not_sent_again() {
    let (endpoint, hook) = Endpoint::start().await;
    endpoint.script.lock().unwrap().extend([500]);
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(
        dir.path(),
        &hook,
        "[mail]\noutbox = \"out\"\n",
        &[("both", true, "slack")],
    );
    let config = Config::from_file(&path).unwrap();
    // A fixed time: three hours from a real `now` may cross the schedule's next 08:00 fire.
    let now = chrono::DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let mut store = seed(&config, now);
    let digester = Digester::new(&config).unwrap();

    let r = digester.step(&mut store, now, FORCE).await.unwrap();
    assert_eq!(
        (r.sent.len(), r.posted.len(), r.post_failed.len()),
        (1, 0, 1)
    );
    let (_, _, e, next) = &r.post_failed[0];
    assert!(
        e.message.contains("HTTP 500") && e.message.contains("127.0.0.1"),
        "{e}"
    );
    assert!(!e.message.contains(SECRET), "the URL is a secret: {e}");
    let wait = *next - now;
    assert!(
        wait >= chrono::Duration::seconds(60) && wait < chrono::Duration::seconds(61),
        "{wait}"
    );
    let row = &store.digests(None).unwrap()[0];
    assert_eq!(
        (row.status.as_str(), row.mail_status.as_deref()),
        ("pending", Some("sent")),
        "the digest waits for its webhook only"
    );
    assert_eq!(store.pending_summary().unwrap().0, 1);

    // Not before the backoff.
    let r = digester
        .step(&mut store, now + chrono::Duration::seconds(30), DUE)
        .await
        .unwrap();
    assert_nothing_delivered(&r);
    // Then once, and the mail is not sent again.
    let r = digester.step(&mut store, *next, DUE).await.unwrap();
    assert_eq!((r.sent.len(), r.posted.len()), (0, 1), "{r:?}");
    let r = digester
        .step(&mut store, now + chrono::Duration::hours(3), DUE)
        .await
        .unwrap();
    assert_nothing_delivered(&r);

    let posts = endpoint.posts();
    assert_eq!(
        posts.iter().map(|p| p.status).collect::<Vec<_>>(),
        [500, 200]
    );
    assert_eq!(
        posts[0].body, posts[1].body,
        "the same body is posted again"
    );
    assert_eq!(posts[0].key, posts[1].key);
    assert_eq!(outbox_files(dir.path()), 1);
    let row = &store.digests(None).unwrap()[0];
    let w = row.webhook.as_ref().unwrap();
    assert_eq!(
        (
            row.status.as_str(),
            w.status.as_str(),
            w.attempts,
            row.attempts
        ),
        ("sent", "sent", 2, 1)
    );
    assert_eq!(w.last_error, None);

    // `veille digest --status` shows both destinations and never the secret.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_veille"))
        .args(["--config", path.to_str().unwrap(), "digest"])
        .env_remove("VEILLE_CONFIG")
        .output()
        .unwrap();
    let status = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{status}");
    assert!(
        status.contains("webhook 127.0.0.1 (slack)")
            && status.contains("webhook sent (attempts 2)"),
        "{status}"
    );
    assert!(!status.contains(SECRET), "{status}");
}

#[tokio::test]
async fn a_failing_mail_is_retried_without_posting_again() {
    let (endpoint, hook) = Endpoint::start().await;
    let sink = SmtpSink::start(Mode::TempFailData).await;
    let dir = tempfile::tempdir().unwrap();
    let mail = format!(
        "[mail]\ntransport = \"smtp\"\nfrom = \"veille@example.org\"\nsmtp_url = \"{}\"\n",
        sink.url()
    );
    let path = write_config(dir.path(), &hook, &mail, &[("both", true, "teams")]);
    let config = Config::from_file(&path).unwrap();
    let now = Utc::now();
    let mut store = seed(&config, now);
    let digester = Digester::new(&config).unwrap();
    let r = digester.step(&mut store, now, FORCE).await.unwrap();
    assert_eq!((r.posted.len(), r.failed.len()), (1, 1), "{r:?}");
    let next = r.failed[0].3;
    sink.set_mode(Mode::Accept);
    let r = digester.step(&mut store, next, DUE).await.unwrap();
    assert_eq!((r.sent.len(), r.posted.len()), (1, 0), "{r:?}");
    assert_eq!(endpoint.posts().len(), 1);
    assert_eq!(sink.received().len(), 1);
    assert_eq!(store.digests(None).unwrap()[0].status, "sent");
}

// ---- the URL from the environment, Retry-After, /health ----

/// `veille` with `args` under the environment variable `var` (absent when `None`).
async fn veille_env(args: &[&str], var: &str, value: Option<&str>) -> std::process::Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_veille"));
    cmd.args(args).env_remove("VEILLE_CONFIG").env_remove(var);
    if let Some(v) = value {
        cmd.env(var, v);
    }
    cmd.output().await.unwrap()
}

#[tokio::test]
async fn a_webhook_url_from_the_environment_is_posted_to_and_its_absence_is_a_config_error() {
    const VAR: &str = "VEILLE_IT_WEBHOOK_URL";
    let (endpoint, hook) = Endpoint::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(
        dir.path(),
        &hook,
        "[mail]\noutbox = \"out\"\n",
        &[("from-env", false, "json")],
    );
    drop(seed(&Config::from_file(&path).unwrap(), Utc::now()));
    // The same watch list with its URL taken out of the file.
    let text = std::fs::read_to_string(&path).unwrap().replace(
        &format!("url = \"{hook}/from-env\""),
        &format!("url_env = \"{VAR}\""),
    );
    assert!(
        !text.contains(SECRET),
        "the file no longer holds the secret"
    );
    std::fs::write(&path, text).unwrap();
    let cfg = path.to_str().unwrap();

    let out = veille_env(&["--config", cfg, "digest", "--send", "--now"], VAR, None).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    for part in [
        "veille.toml:",
        "watchlists[0].webhook.url_env",
        VAR,
        "not set",
    ] {
        assert!(err.contains(part), "{part:?} in {err}");
    }
    assert!(endpoint.posts().is_empty());

    let url = format!("{hook}/from-env");
    let out = veille_env(
        &["--config", cfg, "digest", "--send", "--now"],
        VAR,
        Some(&url),
    )
    .await;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{said}");
    assert!(!said.contains(SECRET), "the URL is never shown: {said}");
    let posts = endpoint.posts();
    assert_eq!(posts.len(), 1, "{said}");
    assert_eq!((posts[0].name.as_str(), posts[0].status), ("from-env", 200));
}

#[tokio::test]
async fn retry_after_on_429_and_503_is_waited_for_capped_at_an_hour_and_ignored_on_500() {
    let (endpoint, hook) = Endpoint::start().await;
    let now = Utc::now();
    let in_half_an_hour = (now + chrono::Duration::seconds(1800))
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    endpoint
        .script
        .lock()
        .unwrap()
        .extend([503, 429, 429, 429, 500]);
    endpoint
        .retry_after
        .lock()
        .unwrap()
        .extend([in_half_an_hour.as_str(), "300", "7200", "5", "600"].map(String::from));
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(
        dir.path(),
        &hook,
        "[mail]\noutbox = \"out\"\n",
        &[("chat", false, "slack")],
    );
    let config = Config::from_file(&path).unwrap();
    let mut store = seed(&config, now);
    let digester = Digester::new(&config).unwrap();

    let mut at = now;
    let mut waits = Vec::new();
    for step in 0..5 {
        let r = if step == 0 {
            digester.step(&mut store, at, FORCE).await.unwrap()
        } else {
            // not a second before the wait is over
            let early = digester
                .step(&mut store, at - chrono::Duration::seconds(2), DUE)
                .await
                .unwrap();
            assert_nothing_delivered(&early);
            digester.step(&mut store, at, DUE).await.unwrap()
        };
        assert_eq!(r.post_failed.len(), 1, "step {step}: {r:?}");
        let next = r.post_failed[0].3;
        waits.push((next - at).num_seconds());
        at = next;
    }
    // HTTP date: half an hour (within the date's second and the test's own time) over the
    // 60 s backoff; 300 s over 120 s; 7200 s capped at an hour; 5 s under the 480 s backoff;
    // a 500's Retry-After is not read (16 min backoff).
    assert!((1795..=1800).contains(&waits[0]), "{waits:?}");
    for (got, want) in waits[1..].iter().zip([300, 3600, 480, 960]) {
        assert!((want..want + 2).contains(got), "{want} s: {waits:?}");
    }
    let r = digester.step(&mut store, at, DUE).await.unwrap();
    assert_eq!(r.posted.len(), 1, "{r:?}");
    let statuses: Vec<u16> = endpoint.posts().iter().map(|p| p.status).collect();
    assert_eq!(statuses, [503, 429, 429, 429, 500, 200]);
}

#[tokio::test]
async fn health_shows_each_webhook_pending_attempts_error_host_and_next_retry_never_the_url() {
    let (endpoint, hook) = Endpoint::start().await;
    endpoint.script.lock().unwrap().extend([503]);
    endpoint.retry_after.lock().unwrap().push_back("120".into());
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(
        dir.path(),
        &hook,
        "[mail]\noutbox = \"out\"\n",
        &[("chat", false, "teams"), ("quiet", false, "json")],
    );
    let config = Config::from_file(&path).unwrap();
    let now = Utc::now();
    let store = seed(&config, now);
    let digests = veille::digest::Service::new(store, Digester::new(&config).unwrap());
    let svc = veille::service::service(
        veille::pipeline::Pipeline::new(&config, Store::open(&config.storage.database).unwrap())
            .unwrap(),
        None,
        Some(digests),
    );
    let (_tx, rx) = tokio::sync::watch::channel(None);
    let (addr, http) = veille::service::http::bind(
        "127.0.0.1:0".parse().unwrap(),
        svc.clone(),
        None,
        veille::service::stopped(rx),
    )
    .await
    .unwrap();
    tokio::spawn(http);
    let health = || async {
        let text = reqwest::get(format!("http://{addr}/health"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!text.contains(SECRET), "the URL is never shown: {text}");
        serde_json::from_str::<Value>(&text).unwrap()
    };
    let entry = |h: &Value, name: &str| -> Value {
        h["webhooks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["watchlist"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} in {h}"))
    };

    let h = health().await;
    let quiet = entry(&h, "quiet");
    assert_eq!(quiet["state"], "idle", "{h}");
    assert_eq!(quiet["pending"], 0, "{h}");
    assert_eq!(quiet["host"], "127.0.0.1", "{h}");

    // Only `chat` gets a digest: `quiet`'s is posted (200) only after `chat`'s 503.
    let mut store = Store::open(&config.storage.database).unwrap();
    let r = Digester::new(&config)
        .unwrap()
        .step(
            &mut store,
            now,
            Scope {
                watchlist: Some("chat"),
                force: true,
            },
        )
        .await
        .unwrap();
    assert_eq!(r.post_failed.len(), 1, "{r:?}");
    let h = health().await;
    let chat = entry(&h, "chat");
    assert_eq!(chat["state"], "failing", "{h}");
    assert_eq!(chat["format"], "teams", "{h}");
    assert_eq!(chat["host"], "127.0.0.1", "{h}");
    assert_eq!(chat["pending"], 1, "{h}");
    assert_eq!(chat["attempts"], 1, "{h}");
    let error = chat["last_error"].as_str().unwrap();
    assert!(
        error.contains("127.0.0.1") && error.contains("HTTP 503"),
        "{error}"
    );
    let next: DateTime<Utc> = chat["next_attempt_at"].as_str().unwrap().parse().unwrap();
    assert!(
        (next - now).num_seconds() >= 119,
        "Retry-After: 120: {next}"
    );
    assert_eq!(h["status"], "degraded", "{h}");
    assert!(
        h["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "webhook of chat failing"),
        "{h}"
    );

    // The documented example (docs/operations.md) shows every field of an entry.
    let doc = include_str!("../../docs/operations.md");
    let block = &doc[doc.find("GET /health").unwrap()..];
    let block = &block[block.find("```json\n").unwrap() + 8..];
    let example: Value = serde_json::from_str(&block[..block.find("```").unwrap()]).unwrap();
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        keys(&example["webhooks"][0]),
        keys(&chat),
        "docs/operations.md /health example, webhooks"
    );

    // Delivered: idle again, with when.
    let r = Digester::new(&config)
        .unwrap()
        .step(&mut store, next, DUE)
        .await
        .unwrap();
    assert_eq!(r.posted.len(), 1, "{r:?}");
    let h = health().await;
    let chat = entry(&h, "chat");
    assert_eq!(chat["state"], "idle", "{h}");
    assert_eq!(chat["pending"], 0, "{h}");
    assert!(
        chat["last_error"].is_null() && chat["last_sent_at"].is_string(),
        "{h}"
    );
    assert_eq!(h["status"], "ok", "{h}");
}

// ---- kill -9 ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_the_endpoint_accepted_the_post_is_posted_again_with_the_same_key() {
    let (endpoint, hook) = Endpoint::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(
        dir.path(),
        &hook,
        "[mail]\noutbox = \"out\"\n",
        &[("only-chat", false, "json")],
    );
    let config = Config::from_file(&path).unwrap();
    let mut store = seed(&config, Utc::now());
    Digester::new(&config)
        .unwrap()
        .compose_due(&mut store, Utc::now(), FORCE)
        .unwrap();
    drop(store);
    let db = config.storage.database.clone();
    let log = dir.path().join("veille.log");

    let mut child = spawn_veille(&path, &log);
    *endpoint.kill_on_next.lock().unwrap() = child.id();
    tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("the endpoint killed veille on the post")
        .unwrap();
    assert_eq!(endpoint.posts().len(), 1);
    assert_eq!(pending(&db), (0, 1), "not recorded: still pending");

    make_due(&db); // the lease of the killed sender ends
    let mut child = spawn_veille(&path, &log);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while pending(&db) != (0, 0) {
        assert!(tokio::time::Instant::now() < deadline, "not posted again");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let posts = endpoint.posts();
    assert_eq!(posts.len(), 2, "posted again once, then recorded");
    assert_eq!(posts[0].body, posts[1].body);
    assert_eq!(
        posts[0].key, posts[1].key,
        "a receiver can drop the duplicate"
    );
    assert_eq!(
        outbox_files(dir.path()),
        0,
        "a chat-only watch list is not mailed"
    );
}

const LISTS: usize = 16;
const KILLS: usize = 10;

/// Makes every pending delivery due now, as if its lease or backoff had passed while veille
/// was down.
fn make_due(db: &Path) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute_batch(
        "UPDATE digests SET next_attempt_at = composed_at WHERE status = 'pending';
         UPDATE digest_webhooks SET next_attempt_at =
           (SELECT composed_at FROM digests d WHERE d.id = digest_id) WHERE status = 'pending';",
    )
    .unwrap();
}

/// Deliveries still pending: (mail, webhook).
fn pending(db: &Path) -> (i64, i64) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    (
        count("SELECT COUNT(*) FROM digests WHERE mailed = 1 AND status = 'pending'"),
        count("SELECT COUNT(*) FROM digest_webhooks WHERE status = 'pending'"),
    )
}

fn spawn_veille(config: &Path, log: &Path) -> tokio::process::Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    tokio::process::Command::new(env!("CARGO_BIN_EXE_veille"))
        .args([
            "--config",
            config.to_str().unwrap(),
            "run",
            "--tick",
            "50ms",
        ])
        .env_remove("VEILLE_CONFIG")
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

/// Sixteen watch lists, each with a digest to mail (outbox) and to post; `veille run` is killed with
/// SIGKILL at random moments ten times while the endpoint takes its time and answers 500 to a
/// fifth of the posts, then a last run delivers what is left. Every digest must reach the
/// endpoint (a 2xx answer) and the outbox; a duplicate can only come from a kill after the
/// endpoint answered and before veille recorded it (at most one per kill), and is counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_delivery_survives_ten_kill_9_with_nothing_lost() {
    let (endpoint, hook) = Endpoint::start().await;
    endpoint.max_delay_ms.store(400, Ordering::Relaxed);
    endpoint.fail_percent.store(20, Ordering::Relaxed);
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..LISTS).map(|i| format!("w{i}")).collect();
    let lists: Vec<(&str, bool, &str)> = names.iter().map(|n| (n.as_str(), true, "json")).collect();
    let path = write_config(dir.path(), &hook, "[mail]\noutbox = \"out\"\n", &lists);
    let config = Config::from_file(&path).unwrap();
    let now = Utc::now();
    let mut store = seed(&config, now);
    // Composed by an earlier process that stopped before delivering.
    let composed = Digester::new(&config)
        .unwrap()
        .compose_due(&mut store, now, FORCE)
        .unwrap()
        .composed;
    assert_eq!(composed.len(), LISTS);
    let ids: BTreeMap<String, i64> = store
        .digests(None)
        .unwrap()
        .into_iter()
        .map(|d| (d.message_id, d.id))
        .collect();
    drop(store);
    let db = config.storage.database.clone();
    let log = dir.path().join("veille.log");

    let (mut mid_send, mut cut_before) = (0, 0);
    for _ in 0..KILLS {
        make_due(&db);
        let seen = endpoint.arrived.load(Ordering::Relaxed);
        let mut child = spawn_veille(&path, &log);
        // The run's start-up takes its time on a busy machine: the kill lands at a random
        // moment of the deliveries, from the arrival of the run's first post on.
        let started = tokio::time::Instant::now();
        while endpoint.arrived.load(Ordering::Relaxed) == seen
            && pending(&db).1 > 0
            && started.elapsed() < Duration::from_secs(20)
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(random_below(500))).await;
        child.start_kill().unwrap(); // SIGKILL
        child.wait().await.unwrap();
        // A post that reached the endpoint and never got its answer out was cut by the kill.
        tokio::time::sleep(Duration::from_millis(350)).await;
        let cut = endpoint.arrived.load(Ordering::Relaxed) as usize - endpoint.posts().len();
        mid_send += usize::from(cut > cut_before);
        cut_before = cut;
    }
    // A last run, with a healthy endpoint, until everything is delivered.
    endpoint.fail_percent.store(0, Ordering::Relaxed);
    make_due(&db);
    let mut child = spawn_veille(&path, &log);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while pending(&db) != (0, 0) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the last run did not deliver everything: {:?} pending",
            pending(&db)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.start_kill().unwrap();
    child.wait().await.unwrap();

    let posts = endpoint.posts();
    let mut delivered: BTreeMap<&str, usize> = BTreeMap::new();
    for p in posts.iter().filter(|p| p.status == 200) {
        let key = p.key.as_deref().expect("every post carries its key");
        assert_eq!(p.json()["id"], key, "the body carries the same key");
        *delivered.entry(key).or_default() += 1;
    }
    let lost: Vec<_> = ids
        .keys()
        .filter(|k| !delivered.contains_key(k.as_str()))
        .collect();
    let duplicates: usize = delivered.values().map(|n| n - 1).sum();
    let failed = posts.iter().filter(|p| p.status != 200).count();
    println!(
        "webhook kill -9: {KILLS} kills ({mid_send} with a post in flight), {LISTS} digests, {} posts ({failed} answered 500), delivered {}/{LISTS}, lost {}, duplicates {duplicates}, outbox {} files",
        posts.len(),
        delivered.len(),
        lost.len(),
        outbox_files(dir.path())
    );
    assert!(lost.is_empty(), "lost: {lost:?}");
    assert!(
        duplicates <= KILLS,
        "a duplicate needs a kill between the answer and the record"
    );
    assert_eq!(
        outbox_files(dir.path()),
        LISTS,
        "every digest mailed, once each"
    );
    let store = Store::open(&db).unwrap();
    for d in store.digests(None).unwrap() {
        let w = d.webhook.unwrap();
        assert_eq!(
            (
                d.status.as_str(),
                d.mail_status.as_deref(),
                w.status.as_str()
            ),
            ("sent", Some("sent"), "sent")
        );
    }
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("digest posted"), "the runs logged their posts");
    assert!(!log.contains(SECRET), "the webhook URL is never logged");
}
