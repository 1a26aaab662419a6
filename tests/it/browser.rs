//! The web view in a real browser: headless Chromium driven through chromedriver (the Debian
//! packages `chromium` and `chromium-driver`; skipped, saying so, when they are absent).
//! `veille serve` runs on loopback over a database filled by a real poll of loopback fixtures;
//! the test filters, searches, opens an item (highlights), judges by clicking, parses the Atom
//! feed, checks that a hostile title shows as text and that no page logs a console error, and
//! saves a screenshot of every page under the test's output folder.

use std::path::{Path, PathBuf};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use super::cli::{text, veille};
use super::server::TestServer;
use super::web::{Served, filled, web_config};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver's `se/log` endpoint: the browser console since the last call.
#[derive(Debug)]
struct BrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or("")))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        (
            axum::http::Method::POST,
            Some(json!({"type": "browser"}).to_string()),
        )
    }
}

/// chromedriver on a free loopback port; killed when dropped.
struct Driver {
    port: u16,
    _child: tokio::process::Child,
}

async fn driver() -> Option<Driver> {
    if !Path::new(CHROMIUM).exists() || !Path::new(CHROMEDRIVER).exists() {
        assert!(
            std::env::var_os("VEILLE_REQUIRE_BROWSER").is_none(),
            "VEILLE_REQUIRE_BROWSER is set but {CHROMIUM} or {CHROMEDRIVER} is missing"
        );
        println!(
            "skipped: browser test ({CHROMIUM} or {CHROMEDRIVER} not found; `apt-get install chromium chromium-driver`)"
        );
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = tokio::process::Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if reqwest::get(format!("http://127.0.0.1:{port}/status"))
            .await
            .is_ok()
        {
            return Some(Driver {
                port,
                _child: child,
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start");
}

async fn browser(driver: &Driver, profile: &Path) -> Client {
    let caps = json!({
        "browserName": "chrome",
        "goog:loggingPrefs": {"browser": "ALL"},
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--hide-scrollbars", "--window-size=1280,1000",
                format!("--user-data-dir={}", profile.display()),
            ]
        }
    });
    let Value::Object(caps) = caps else {
        unreachable!()
    };
    ClientBuilder::rustls()
        .unwrap()
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a browser session")
}

/// Where screenshots go: the test's output folder.
fn shots() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("web-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shot(b: &Client, name: &str) {
    let png = b.screenshot().await.unwrap();
    std::fs::write(shots().join(format!("{name}.png")), png).unwrap();
}

/// Fails on any console message of level SEVERE (errors, CSP violations, failed loads).
async fn no_console_errors(b: &Client, page: &str) {
    let log = b.issue_cmd(BrowserLog).await.unwrap();
    let errors: Vec<&Value> = log
        .as_array()
        .map(|a| a.iter().filter(|e| e["level"] == "SEVERE").collect())
        .unwrap_or_default();
    assert!(errors.is_empty(), "console errors on {page}: {errors:?}");
}

/// Waits up to 10 s for an element of the page that a click or a submit leads to. fantoccini's
/// own wait gives up on any error but "no such element", and a search that meets the navigation
/// under way fails with "aborted by navigation" (once in CI): every error is retried until the
/// deadline.
async fn after_navigation(b: &Client, css: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match b.find(Locator::Css(css)).await {
            Ok(_) => return,
            Err(_) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("no `{css}` 10 s after the navigation: {e}"),
        }
    }
}

async fn texts(b: &Client, css: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in b.find_all(Locator::Css(css)).await.unwrap() {
        out.push(e.text().await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_view_in_a_real_browser() {
    let Some(driver) = driver().await else {
        return;
    };
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = web_config(
        dir.path(),
        &server,
        "[server]\nurl = \"http://veille.test/\"\n",
    );
    filled(&config).await;
    let out = veille(&[
        "--config",
        config.to_str().unwrap(),
        "digest",
        "--send",
        "--now",
    ])
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let served = Served::start(&config).await;
    let b = browser(&driver, &dir.path().join("profile")).await;

    // Matches: the hostile title is text, no script ran, nothing logged.
    b.goto(&served.url("/")).await.unwrap();
    let titles = texts(&b, "li.entry h2").await;
    assert!(
        titles
            .iter()
            .any(|t| t.starts_with("<script>alert(\"title\")</script><img src=x")),
        "{titles:?}"
    );
    let scripts = b
        .execute(
            "return document.scripts.length + document.images.length",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        scripts,
        json!(0),
        "no script or image element came from a feed"
    );
    shot(&b, "matches").await;
    no_console_errors(&b, "/").await;

    // Filters: choose a topic and submit the form.
    b.find(Locator::Css("select[name=topic]"))
        .await
        .unwrap()
        .select_by_value("eu-us-cyber")
        .await
        .unwrap();
    b.find(Locator::Css("form.filters button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    after_navigation(&b, "option[value=eu-us-cyber][selected]").await;
    assert!(
        b.current_url()
            .await
            .unwrap()
            .as_str()
            .contains("topic=eu-us-cyber")
    );
    let titles = texts(&b, "li.entry h2").await;
    assert_eq!(titles.len(), 2, "{titles:?}");
    assert!(
        titles.iter().all(|t| t.contains("United States")),
        "{titles:?}"
    );
    no_console_errors(&b, "/?topic=eu-us-cyber").await;

    // The item page: evidence highlighted; judge by clicking.
    b.find(Locator::Css("li.entry h2 a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    after_navigation(&b, ".body").await;
    let marks = texts(&b, ".body mark").await;
    assert!(marks.iter().any(|m| m == "United States"), "{marks:?}");
    shot(&b, "item").await;
    no_console_errors(&b, "the item page").await;
    b.find(Locator::Css("tr.matched button[value=relevant]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    after_navigation(&b, "small.judged").await;
    let judged = texts(&b, "small.judged").await;
    assert_eq!(judged, ["judged relevant"]);
    let c = veille::config::Config::from_file(&config).unwrap();
    let store = veille::store::Store::open(&c.storage.database).unwrap();
    let j = store.current_judgements().unwrap();
    assert_eq!(
        (j.len(), j[0].topic.as_str(), j[0].via.as_str()),
        (1, "eu-us-cyber", "page")
    );
    no_console_errors(&b, "the item page after judging").await;

    // Search from the box in the header; accents folded, hits marked.
    let q = b
        .find(Locator::Css("form.quick input[name=q]"))
        .await
        .unwrap();
    q.send_keys("defense EUROPEENNE").await.unwrap();
    b.find(Locator::Css("form.quick button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    after_navigation(&b, "p.help").await;
    let titles = texts(&b, "li.entry h2").await;
    assert_eq!(titles.len(), 1, "{titles:?}");
    assert!(titles[0].contains("Livre blanc"), "{titles:?}");
    assert_eq!(
        texts(&b, "li.entry h2 mark").await,
        ["Défense", "européenne"]
    );
    shot(&b, "search").await;
    no_console_errors(&b, "/search").await;

    // Feeds and digests (the digest as mailed, in its sandboxed frame).
    b.goto(&served.url("/feeds")).await.unwrap();
    assert!(texts(&b, "td .state").await.iter().all(|s| s == "ok"));
    shot(&b, "feeds").await;
    no_console_errors(&b, "/feeds").await;
    b.goto(&served.url("/digests")).await.unwrap();
    shot(&b, "digests").await;
    no_console_errors(&b, "/digests").await;
    b.find(Locator::Css("table.digests a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(
        b.find_all(Locator::Css("iframe.mail")).await.unwrap().len(),
        1
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    shot(&b, "digest").await;
    no_console_errors(&b, "a digest").await;

    // The Atom feed, parsed.
    let atom = reqwest::get(served.url("/watchlists/cyber-watch.atom"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let feed = feed_rs::parser::parse(atom.as_ref()).expect("valid Atom");
    assert!(feed.entries.len() >= 4);

    // A phone-sized window: the matches and the item page still read.
    b.set_window_size(390, 844).await.unwrap();
    b.goto(&served.url("/")).await.unwrap();
    shot(&b, "matches-phone").await;
    let width = b
        .execute("return document.documentElement.scrollWidth", vec![])
        .await
        .unwrap();
    assert!(
        width.as_u64().unwrap() <= 390,
        "no sideways scrolling on a phone: {width}"
    );
    b.find(Locator::Css("li.entry h2 a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    shot(&b, "item-phone").await;
    no_console_errors(&b, "the phone pages").await;
    b.close().await.unwrap();
    println!("screenshots in {}", shots().display());
}
