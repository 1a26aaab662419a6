//! The analyst web view over HTTP: `veille serve` on loopback over a database filled by a real
//! poll of loopback fixtures; filters, search, the item page, judgements (CSRF, signed links that
//! record nothing when fetched), Atom parsed by feed-rs, the token, bad query strings.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use reqwest::StatusCode;
use reqwest::redirect::Policy;
use tokio::io::{AsyncBufReadExt, BufReader};

use super::cli::{text, veille};
use super::server::TestServer;

/// Writes a configuration with the web view fixture feeds, a watch list and an outbox.
pub fn web_config(dir: &Path, server: &TestServer, extra: &str) -> PathBuf {
    let toml = format!(
        "[storage]\ndatabase = \"veille.db\"\n[fetch]\ntimeout = \"5s\"\nper_host_delay = \"0s\"\nallow_private_networks = true\n\
         {extra}\n\
         [mail]\ntransport = \"outbox\"\noutbox = \"outbox\"\n\
         [[feeds]]\nname = \"press\"\nurl = \"{}\"\nfetch_article = \"never\"\n\
         [[feeds]]\nname = \"cyber\"\nurl = \"{}\"\nfetch_article = \"never\"\n\
         [[watchlists]]\nname = \"cyber-watch\"\ntopics = [\"eu-nato-cyber\", \"eu-us-cyber\"]\nrecipients = [\"ana@example.org\"]\nschedule = \"0 8 * * *\"\n",
        server.url("/feeds/web-view.xml"),
        server.url("/feeds/cyber-news.xml"),
    );
    let path = dir.join("veille.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

/// Polls the fixtures into the configuration's database.
pub async fn filled(config: &Path) {
    let out = veille(&["--config", config.to_str().unwrap(), "poll", "--all"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// The web view's page at `path`, served in this process over `config`'s database.
pub async fn page_in_process(config: &veille::config::Config, path: &str) -> (StatusCode, String) {
    let app = veille::web::router(config).unwrap();
    let (tx, rx) = tokio::sync::watch::channel(None);
    let (addr, server) = veille::web::serve(
        "127.0.0.1:0".parse().unwrap(),
        app,
        veille::service::stopped(rx),
    )
    .await
    .unwrap();
    let server = tokio::spawn(server);
    let r = reqwest::get(format!("http://{addr}{path}")).await.unwrap();
    let (status, body) = (r.status(), r.text().await.unwrap());
    tx.send(Some(veille::service::Signal::Stop)).unwrap();
    server.await.unwrap().unwrap();
    (status, body)
}

/// `veille serve` on a free loopback port; killed when dropped.
pub struct Served {
    pub addr: SocketAddr,
    _child: tokio::process::Child,
}

impl Served {
    pub async fn start(config: &Path) -> Served {
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_veille"))
            .args([
                "--config",
                config.to_str().unwrap(),
                "serve",
                "--listen",
                "127.0.0.1:0",
            ])
            .env_remove("RUST_LOG")
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = tokio::time::timeout(std::time::Duration::from_secs(20), lines.next_line())
            .await
            .expect("veille serve prints its address")
            .unwrap()
            .expect("a line");
        let addr = line
            .strip_prefix("veille web view at http://")
            .and_then(|r| r.split('/').next())
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .parse()
            .unwrap();
        Served {
            addr,
            _child: child,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// The value of a hidden form field in a page.
fn field(html: &str, name: &str) -> String {
    let at = html
        .find(&format!("name=\"{name}\" value=\""))
        .unwrap_or_else(|| panic!("no field {name} in {html}"));
    let rest = &html[at + name.len() + 15..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// The `veille_csrf=…` pair a response sets.
fn csrf_cookie(resp: &reqwest::Response) -> String {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("veille_csrf="))
        .and_then(|v| v.split(';').next())
        .expect("a CSRF cookie")
        .to_string()
}

async fn get(c: &reqwest::Client, url: &str) -> (StatusCode, String) {
    let r = c.get(url).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

/// Item ids linked from a page, in order.
fn item_ids(html: &str) -> Vec<i64> {
    html.split("href=\"/items/")
        .skip(1)
        .filter_map(|s| s.split('"').next()?.parse().ok())
        .collect()
}

/// Verdicts in force in the configuration's database.
fn judgements(config: &Path) -> usize {
    let c = veille::config::Config::from_file(config).unwrap();
    let store = veille::store::Store::open(&c.storage.database).unwrap();
    store.current_judgements().unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_filters_search_judgements_and_atom_over_http() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = web_config(
        dir.path(),
        &server,
        "[server]\nurl = \"http://veille.test/\"\n",
    );
    filled(&config).await;
    let cfg = config.to_str().unwrap();
    let out = veille(&["--config", cfg, "digest", "--send", "--now"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let served = Served::start(&config).await;
    let c = client();

    // The matches page: security headers, the matched items only, newest first.
    let r = c.get(served.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("script-src"),
        "{csp}"
    );
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");
    let page = r.text().await.unwrap();
    assert!(page.contains("EU and NATO step up cooperation"), "{page}");
    assert!(
        !page.contains("Livre blanc"),
        "unmatched items are not matches"
    );
    assert!(!page.contains("<script>alert"), "hostile title escaped");
    assert!(
        page.contains("&lt;script&gt;alert"),
        "hostile title shown as text: {page}"
    );
    assert!(!page.contains("javascript:"), "no script link: {page}");
    assert!(
        page.contains("Also in fr"),
        "the French version is grouped with the English: {page}"
    );

    // Filters.
    let (s, p) = get(&c, &served.url("/?topic=eu-us-cyber")).await;
    assert_eq!(s, 200);
    assert!(
        p.contains("EU and United States hold their cyber dialogue")
            && !p.contains("step up cooperation"),
        "{p}"
    );
    let (_, p) = get(&c, &served.url("/?language=fr&watchlist=cyber-watch")).await;
    assert!(
        p.contains("cyberdéfense") && !p.contains("cyber dialogue"),
        "{p}"
    );
    let (_, p) = get(&c, &served.url("/?feed=cyber")).await;
    assert!(
        p.contains("annual cyber dialogue on 2 June")
            || p.contains("EU and United States hold annual"),
        "{p}"
    );
    assert!(!p.contains("step up cooperation"), "{p}");
    let (_, p) = get(&c, &served.url("/?from=2026-06-04&to=2026-06-04")).await;
    assert_eq!(item_ids(&p).len(), 1, "one item on 4 June: {p}");
    // A minimum score keeps the entries at or above it (shown rounded to 2 decimals).
    let scores = |html: &str| -> Vec<f64> {
        html.split("class=\"score\"")
            .skip(1)
            .filter_map(|s| {
                s.split('>')
                    .nth(1)?
                    .split('<')
                    .next()?
                    .split(' ')
                    .nth(1)?
                    .parse()
                    .ok()
            })
            .collect()
    };
    let (_, all) = get(&c, &served.url("/")).await;
    let shown = scores(&all);
    assert!(shown.len() >= 2, "{all}");
    let low = shown.iter().copied().fold(1.0, f64::min) - 0.005;
    let mut previous = item_ids(&all).len();
    for min in [low, 0.9, 0.99, 1.0] {
        let (_, p) = get(&c, &served.url(&format!("/?min_score={min}"))).await;
        let kept = item_ids(&p).len();
        assert!(kept <= previous, "min_score={min}: {kept} > {previous}");
        assert!(
            scores(&p).iter().all(|&s| s >= min - 0.005),
            "min_score={min}: {p}"
        );
        previous = kept;
    }
    let (_, p) = get(&c, &served.url(&format!("/?min_score={low}"))).await;
    assert_eq!(item_ids(&p).len(), item_ids(&all).len());

    // Bad query strings are 400 pages, unknown things 404, never 500.
    for bad in [
        "/?min_score=2",
        "/?from=tomorrow",
        "/?colour=red",
        "/?topic=a&topic=b",
        "/?watchlist=nope",
        "/?topic=nope",
        "/items/abc",
        "/items/1?x=1",
        "/search?q=-only",
        "/search?q=%22%22",
        "/search?q=a&before=x",
        "/digests/x",
    ] {
        let (s, p) = get(&c, &served.url(bad)).await;
        assert_eq!(s, 400, "{bad}: {p}");
        assert!(
            p.contains("<h1>400 Bad Request</h1>"),
            "{bad}: an HTML page: {p}"
        );
    }
    for missing in [
        "/items/999999",
        "/digests/999",
        "/nothing",
        "/watchlists/nope.atom",
    ] {
        assert_eq!(get(&c, &served.url(missing)).await.0, 404, "{missing}");
    }

    // Search: every item, matched or not, accents and case folded; prefixes; exclusions.
    let (s, p) = get(&c, &served.url("/search?q=DEFENSE+europeenne")).await;
    assert_eq!(s, 200);
    assert!(p.contains("Livre blanc"), "{p}");
    assert!(
        p.contains("<mark>Défense</mark>"),
        "the hit is highlighted: {p}"
    );
    let (_, p) = get(&c, &served.url("/search?q=cyberd*")).await;
    assert!(p.contains("<mark>cyberdéfense</mark>"), "{p}");
    let (_, p) = get(&c, &served.url("/search?q=cyber+-otan")).await;
    assert!(
        !p.contains("cyberdéfense") && p.contains("undersea cables"),
        "{p}"
    );
    let (_, p) = get(&c, &served.url("/search?q=%22undersea+cables%22")).await;
    assert_eq!(item_ids(&p).len(), 2, "{p}");
    let (_, p) = get(&c, &served.url("/search?q=%22security+of+undersea%22")).await;
    assert_eq!(item_ids(&p).len(), 1, "a phrase of whole words: {p}");

    // The item page: highlighted evidence, every topic's score, the digest that carried it.
    let (_, p) = get(&c, &served.url("/?topic=eu-us-cyber")).await;
    let id = item_ids(&p)[0];
    let r = c
        .get(served.url(&format!("/items/{id}")))
        .send()
        .await
        .unwrap();
    let cookie = csrf_cookie(&r);
    let p = r.text().await.unwrap();
    assert!(p.contains("<mark>United States</mark>"), "{p}");
    assert!(
        p.contains("eu-nato-cyber") && p.contains("not matched"),
        "every topic is listed: {p}"
    );
    assert!(p.contains("/digests/1"), "the digest that carried it: {p}");
    assert!(
        p.contains("read from the text"),
        "how the language was decided: {p}"
    );

    // A judgement needs the CSRF token bound to the cookie.
    let form =
        |csrf: &str, verdict: &str| format!("csrf={csrf}&topic=eu-us-cyber&verdict={verdict}");
    let post = |body: String, cookie: Option<&str>| {
        let mut req = c
            .post(served.url(&format!("/items/{id}/judge")))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(k) = cookie {
            req = req.header("cookie", k);
        }
        req.send()
    };
    let csrf = field(&p, "csrf");
    assert_eq!(
        post(form(&csrf, "relevant"), None).await.unwrap().status(),
        403
    );
    assert_eq!(
        post(form("0".repeat(32).as_str(), "relevant"), Some(&cookie))
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(judgements(&config), 0);
    let r = post(form(&csrf, "should_match"), Some(&cookie))
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        400,
        "the item matches: should-match makes no sense"
    );
    let r = post(form(&csrf, "relevant"), Some(&cookie)).await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(judgements(&config), 1);
    let (_, p) = get(&c, &served.url(&format!("/items/{id}"))).await;
    assert!(p.contains("judged relevant"), "{p}");

    // The digest carries signed judgement links; fetching one records nothing.
    let eml = std::fs::read_dir(dir.path().join("outbox"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mail = String::from_utf8_lossy(&std::fs::read(eml).unwrap()).into_owned();
    let mail = mail.replace("=\r\n", "").replace("=3D", "=");
    let at = mail
        .find("http://veille.test/judge/")
        .expect("a judgement link in the digest");
    let link: String = mail[at..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '"' && *c != '<')
        .collect();
    let link = link
        .replace("&amp;", "&")
        .replace("http://veille.test", &served.url(""));
    let r = c.get(&link).send().await.unwrap();
    assert_eq!(r.status(), 200, "{link}");
    let cookie = csrf_cookie(&r);
    let p = r.text().await.unwrap();
    assert_eq!(judgements(&config), 1, "a GET records nothing");
    let action = field(&p, "csrf");
    let path = link.trim_start_matches(&served.url(""));
    let tampered = path.replacen("/judge/", "/judge/9", 1);
    assert_eq!(
        get(&c, &served.url(&tampered)).await.0,
        403,
        "a tampered link is refused"
    );
    let topic = path
        .split('/')
        .nth(3)
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let verdict = if p.contains("value=\"not_relevant\"") {
        "not_relevant"
    } else {
        "should_match"
    };
    let r = c
        .post(&link)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", &cookie)
        .body(format!("csrf={action}&topic={topic}&verdict={verdict}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(judgements(&config), 2);

    // Feeds and digests.
    let (s, p) = get(&c, &served.url("/feeds")).await;
    assert_eq!(s, 200);
    assert!(p.contains("press") && p.contains(">ok<"), "{p}");
    let (_, p) = get(&c, &served.url("/digests")).await;
    assert!(p.contains("cyber-watch") && p.contains("sent"), "{p}");
    let r = c.get(served.url("/digests/1/mail")).send().await.unwrap();
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("sandbox") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    let p = r.text().await.unwrap();
    assert!(
        p.contains("Judge this match") && !p.contains("<script"),
        "{p}"
    );

    // Atom: valid for a feed parser, the evidence in each summary.
    let r = c
        .get(served.url("/watchlists/cyber-watch.atom"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/atom+xml")
    );
    let body = r.bytes().await.unwrap();
    let mut reader = quick_xml::Reader::from_reader(body.as_ref());
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => buf.clear(),
            Err(e) => panic!("not well-formed XML: {e}"),
        }
    }
    let feed = feed_rs::parser::parse(body.as_ref()).expect("valid Atom");
    assert_eq!(feed.feed_type, feed_rs::model::FeedType::Atom);
    assert!(feed.entries.len() >= 4, "{}", feed.entries.len());
    for e in &feed.entries {
        let summary = &e.summary.as_ref().expect("a summary").content;
        assert!(
            summary.contains("Why: ") && summary.contains("Score: "),
            "{summary}"
        );
    }
    let hostile = feed
        .entries
        .iter()
        .find(|e| e.title.as_ref().unwrap().content.contains("<script>"))
        .expect("the hostile title, as text");
    assert!(
        hostile
            .links
            .iter()
            .all(|l| !l.href.starts_with("javascript:"))
    );

    // eval --judged and export-labels read the judgements; the export is an eval corpus.
    let out = veille(&["--config", cfg, "eval", "--judged"]).await;
    let report = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(report.starts_with("2 judgements on 2 items"), "{report}");
    assert!(
        report
            .lines()
            .any(|l| l.starts_with("eu-us-cyber") && l.contains(" 1.000 ")),
        "{report}"
    );
    let labels = dir.path().join("labels");
    let out = veille(&["--config", cfg, "export-labels", labels.to_str().unwrap()]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let tsv = std::fs::read_to_string(labels.join("labels.tsv")).unwrap();
    assert!(tsv.contains(&format!("j{id}\ten\teu-us-cyber")), "{tsv}");
    let out = veille(&["--config", cfg, "eval", labels.to_str().unwrap()]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("2 documents"),
        "{}",
        text(&out.stdout)
    );
    let again = veille(&["--config", cfg, "export-labels", labels.to_str().unwrap()]).await;
    assert!(
        !again.status.success(),
        "an export is never overwritten without --force"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_guards_the_pages_but_not_signed_links() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let token = "correct-horse-battery-staple";
    let config = web_config(
        dir.path(),
        &server,
        &format!("[server]\ntoken = \"{token}\"\n"),
    );
    filled(&config).await;
    let served = Served::start(&config).await;
    let c = client();
    let r = c.get(served.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let cookie = csrf_cookie(&r);
    let p = r.text().await.unwrap();
    assert!(
        p.contains("Sign in") && !p.contains("step up cooperation"),
        "{p}"
    );
    let r = c
        .get(served.url("/watchlists/cyber-watch.atom"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    // HTTP Basic, any user name.
    let r = c
        .get(served.url("/watchlists/cyber-watch.atom"))
        .basic_auth("reader", Some(token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .get(served.url("/"))
        .basic_auth("x", Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // The login form sets a session cookie.
    let csrf = field(&p, "csrf");
    let login = |t: &str| {
        c.post(served.url("/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", &cookie)
            .body(format!("csrf={csrf}&next=%2Ffeeds&token={t}"))
            .send()
    };
    assert_eq!(login("nope").await.unwrap().status(), 401);
    let r = login(token).await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/feeds");
    let session = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("veille_session="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let r = c
        .get(served.url("/feeds"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // A signed judgement link opens without the token.
    let store = veille::store::Store::open(&dir.path().join("veille.db")).unwrap();
    let mut store = store;
    let key = veille::links::Key::load(&mut store).unwrap();
    let path = veille::links::judge_path(&key, 1, "eu-nato-cyber");
    let (s, p) = get(&c, &served.url(&format!("/{path}"))).await;
    assert_eq!(s, 200, "{p}");
    assert!(p.contains("Is this about eu-nato-cyber?"), "{p}");
    let (s, _) = get(&c, &served.url("/judge/1/eu-nato-cyber?t=00")).await;
    assert_eq!(s, 401, "an unsigned link asks for the token");

    // Beyond loopback without a token: refused by check and by serve.
    let open = dir.path().join("open.toml");
    std::fs::write(&open, "[server]\nlisten = \"0.0.0.0:9187\"\n").unwrap();
    let out = veille(&["--config", open.to_str().unwrap(), "check"]).await;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("server.listen") && text(&out.stderr).contains("token"),
        "{}",
        text(&out.stderr)
    );
    let plain = dir.path().join("plain.toml");
    std::fs::write(&plain, "[storage]\ndatabase = \"p.db\"\n").unwrap();
    let out = veille(&[
        "--config",
        plain.to_str().unwrap(),
        "serve",
        "--listen",
        "0.0.0.0:0",
    ])
    .await;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("not loopback"),
        "{}",
        text(&out.stderr)
    );
}
