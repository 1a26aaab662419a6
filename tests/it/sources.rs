//! HTML listing and JSON sources end to end on loopback: a server in the shape of the EEAS press
//! pages and a NATO search endpoint (fixtures in `tests/data/sources/`), a real SQLite file,
//! and the built binary for `preview-source`, `feeds` and `check`.

use super::cli::{text, veille};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use veille::config::Config;
use veille::pipeline::{Outcome, Pipeline};
use veille::store::{ItemFilter, Store};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sources")
}

/// Requests as the server saw them: path with query, and `If-None-Match`.
type Log = Arc<Mutex<Vec<(String, Option<String>)>>>;

struct Site {
    addr: std::net::SocketAddr,
    log: Log,
}

impl Site {
    async fn start() -> Site {
        let log = Log::default();
        let app = Router::new()
            .route("/eeas/press-material_en", get(listing))
            .route("/eeas/{slug}", get(article))
            .route("/redesigned", get(redesigned))
            .route("/api/search", get(search))
            .with_state(log.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Site { addr, log }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// How often `path_and_query` was requested, and the `If-None-Match` of each request.
    fn requests(&self, path_and_query: &str) -> Vec<Option<String>> {
        let log = self.log.lock().unwrap();
        log.iter()
            .filter(|(p, _)| p == path_and_query)
            .map(|(_, inm)| inm.clone())
            .collect()
    }
}

fn note(log: &Log, path: String, headers: &HeaderMap) {
    let inm = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    log.lock().unwrap().push((path, inm));
}

fn file(name: &str, ctype: &'static str) -> Response {
    match std::fs::read(fixtures().join(name)) {
        Ok(body) => ([(header::CONTENT_TYPE, ctype)], body).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `/eeas/press-material_en?page=N` → `eeas-press-{N+1}.html`, with an ETag on every page.
async fn listing(State(log): State<Log>, RawQuery(q): RawQuery, headers: HeaderMap) -> Response {
    let path = match &q {
        Some(q) => format!("/eeas/press-material_en?{q}"),
        None => "/eeas/press-material_en".into(),
    };
    note(&log, path, &headers);
    let page: u32 = q
        .as_deref()
        .and_then(|q| q.strip_prefix("page="))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let etag = format!("\"listing-{page}\"");
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    let mut resp = file(
        &format!("eeas-press-{}.html", page + 1),
        "text/html; charset=utf-8",
    );
    resp.headers_mut()
        .insert(header::ETAG, etag.parse().unwrap());
    resp
}

async fn article(
    State(log): State<Log>,
    UrlPath(slug): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    note(&log, format!("/eeas/{slug}"), &headers);
    if slug.contains("..") {
        return StatusCode::NOT_FOUND.into_response();
    }
    file(&format!("articles/{slug}.html"), "text/html; charset=utf-8")
}

async fn redesigned(State(log): State<Log>, headers: HeaderMap) -> Response {
    note(&log, "/redesigned".into(), &headers);
    file("empty-listing.html", "text/html")
}

async fn search(State(log): State<Log>, headers: HeaderMap) -> Response {
    note(&log, "/api/search".into(), &headers);
    file("nato-search.json", "application/json")
}

/// The `[[feeds]]` entry of the EEAS-like listing, reading at most `max_pages` pages.
fn eeas_feed(site: &Site, name: &str, path: &str, max_pages: u32, fetch_article: &str) -> String {
    format!(
        "[[feeds]]\nname = \"{name}\"\nurl = \"{}\"\nkind = \"html\"\nfetch_article = \"{fetch_article}\"\n\
         [feeds.html]\nitem = \"div.card\"\nlink = \"h5.card-title a\"\ntitle = \"h5.card-title\"\ndate = \".card-footer\"\n\
         summary = \"p.card-text\"\nnext_page = \"a[rel=next]\"\nmax_pages = {max_pages}\n",
        site.url(path)
    )
}

fn nato_feed(site: &Site) -> String {
    format!(
        "[[feeds]]\nname = \"nato-news\"\nurl = \"{}\"\nkind = \"json\"\nfetch_article = \"never\"\n\
         [feeds.json]\nitems = \"responses.0.hits.hits\"\nlink = \"_source.url\"\ntitle = \"_source.title\"\n\
         date = \"_source.date\"\nsummary = \"_source.teaser\"\nguid = \"_id\"\nbase_url = \"https://www.nato.int/\"\n",
        site.url("/api/search")
    )
}

fn write_config(dir: &Path, feeds: &[String]) -> PathBuf {
    let mut toml = String::from(
        "[storage]\ndatabase = \"veille.db\"\n[fetch]\ntimeout = \"5s\"\nconnect_timeout = \"2s\"\nper_host_delay = \"0s\"\nallow_private_networks = true\n",
    );
    for f in feeds {
        toml.push_str(f);
    }
    let path = dir.join("veille.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

fn pipeline(config: &Path) -> Pipeline {
    let config = Config::from_file(config).unwrap();
    let store = Store::open(&config.storage.database).unwrap();
    Pipeline::new(&config, store).unwrap()
}

async fn poll(p: &Pipeline) -> Vec<(String, Outcome)> {
    let mut out = Vec::new();
    p.poll(true, |r, _| out.push((r.feed.clone(), r.outcome.clone())))
        .await
        .unwrap();
    out
}

/// (title, url, published as YYYY-MM-DD) of the stored items of `feed`, newest first.
fn stored(p: &Pipeline, feed: &str) -> Vec<(String, String, String)> {
    p.store()
        .items(&ItemFilter {
            feed: Some(feed.into()),
            ..ItemFilter::default()
        })
        .unwrap()
        .into_iter()
        .map(|i| {
            (
                i.title,
                i.url.unwrap_or_default(),
                i.published
                    .map_or("-".into(), |d| d.format("%Y-%m-%d").to_string()),
            )
        })
        .collect()
}

#[tokio::test]
async fn html_listing_items_are_stored_with_resolved_links_dates_and_articles() {
    let site = Site::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &[eeas_feed(
            &site,
            "eeas-press",
            "/eeas/press-material_en",
            2,
            "auto",
        )],
    );
    let p = pipeline(&config);

    let reports = poll(&p).await;
    assert!(
        matches!(
            reports[0].1,
            Outcome::Updated {
                status: 200,
                items: 5,
                new: 5,
                articles_failed: 0,
                ..
            }
        ),
        "{reports:?}"
    );
    let items = stored(&p, "eeas-press");
    let base = site.url("/eeas");
    let expected = [
        (
            "EU and NATO hold staff talks on cyber defence cooperation",
            "eu-nato-cyber-staff-talks_en",
            "2026-11-24",
        ),
        (
            "Statement by the Spokesperson on the EU–US cyber dialogue",
            "eu-us-cyber-dialogue-statement_en?utm_source=listing",
            "2026-11-23",
        ),
        (
            "High Representative visits the Western Balkans",
            "hr-western-balkans-visit_en",
            "2026-11-20",
        ),
        (
            "EU sanctions: Council extends cyber sanctions framework",
            "cyber-sanctions-framework-extended_en",
            "2026-11-18",
        ),
        (
            "Speech at the EU–NATO conference on resilience",
            "eu-nato-resilience-speech_en",
            "2026-11-17",
        ),
    ];
    let expected: Vec<_> = expected
        .iter()
        .map(|(t, slug, d)| (t.to_string(), format!("{base}/{slug}"), d.to_string()))
        .collect();
    assert_eq!(items, expected);

    // Pagination stopped at max_pages = 2: page 3 was never requested.
    assert_eq!(site.requests("/eeas/press-material_en?page=1").len(), 1);
    assert!(site.requests("/eeas/press-material_en?page=2").is_empty());
    // Every item's article page was fetched once (the pinned repeat on page 2 was not).
    assert_eq!(site.requests("/eeas/eu-nato-cyber-staff-talks_en").len(), 1);
    assert_eq!(site.requests("/eeas/eu-nato-resilience-speech_en").len(), 1);
    let texts = p.store().texts(0, 100).unwrap();
    let talks = texts
        .iter()
        .find(|t| t.title.starts_with("EU and NATO hold staff talks"))
        .unwrap();
    assert!(
        talks.body.contains("undersea cables") && !talks.body.contains("Legal notice"),
        "the article text, extracted: {}",
        talks.body
    );
    let health = p.store().feeds().unwrap();
    assert_eq!(health[0].title.as_deref(), Some("Press material | EEAS"));
    assert_eq!((health[0].error_count, health[0].item_count), (0, 5));

    // Second poll: the first page is asked for conditionally and is not modified.
    let reports = poll(&p).await;
    assert_eq!(reports[0].1, Outcome::NotModified, "{reports:?}");
    let first = site.requests("/eeas/press-material_en");
    assert_eq!(first, [None, Some("\"listing-0\"".to_string())]);
    assert_eq!(site.requests("/eeas/press-material_en?page=1").len(), 1);
}

#[tokio::test]
async fn a_later_page_that_fails_ends_the_walk_and_keeps_the_items_read() {
    use veille::pipeline::fetch::{Fetcher, Validators};
    use veille::pipeline::listing::follow_pages;
    use veille::pipeline::sources::parse_page;
    let site = Site::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = Config::from_file(&write_config(
        dir.path(),
        &[eeas_feed(
            &site,
            "eeas-press",
            "/eeas/press-material_en",
            3,
            "never",
        )],
    ))
    .unwrap();
    let source = &config.feeds[0].source;
    let fetcher = Fetcher::new(&config.fetch).unwrap();
    // Page 1 as served, with its pager pointing at a page that does not exist.
    let url = site.url("/eeas/press-material_en");
    let first = fetcher.get(&url, &Validators::default()).await.unwrap();
    let html = String::from_utf8(first.body)
        .unwrap()
        .replace("?page=1", "?page=7");
    let page = parse_page(html.as_bytes(), None, &url, source).unwrap();
    let listing = follow_pages(&fetcher, source, &url, &url, page).await;
    assert_eq!(listing.feed.items.len(), 3);
    assert_eq!(listing.pages, vec![url.clone()]);
    assert_eq!(
        listing.failures,
        [format!("page {url}?page=7: HTTP status 404")]
    );
}

#[tokio::test]
async fn pagination_stops_on_a_page_already_read() {
    let site = Site::start().await;
    let dir = tempfile::tempdir().unwrap();
    // Page 3 links back to page 1; a generous max_pages must not loop.
    let config = write_config(
        dir.path(),
        &[eeas_feed(
            &site,
            "eeas-press",
            "/eeas/press-material_en",
            10,
            "never",
        )],
    );
    let p = pipeline(&config);
    let reports = poll(&p).await;
    assert!(
        matches!(
            reports[0].1,
            Outcome::Updated {
                items: 6,
                new: 6,
                ..
            }
        ),
        "{reports:?}"
    );
    assert_eq!(site.requests("/eeas/press-material_en").len(), 1);
    assert_eq!(site.requests("/eeas/press-material_en?page=1").len(), 1);
    assert_eq!(site.requests("/eeas/press-material_en?page=2").len(), 1);
    assert_eq!(
        stored(&p, "eeas-press").last().unwrap().0,
        "EU and Japan hold security and defence consultations",
        "page 3's item, the oldest, is stored"
    );
}

#[tokio::test]
async fn json_endpoint_items_are_stored() {
    let site = Site::start().await;
    let dir = tempfile::tempdir().unwrap();
    let p = pipeline(&write_config(dir.path(), &[nato_feed(&site)]));
    let reports = poll(&p).await;
    assert!(
        matches!(
            reports[0].1,
            Outcome::Updated {
                items: 3,
                new: 3,
                ..
            }
        ),
        "{reports:?}"
    );
    let items = stored(&p, "nato-news");
    assert_eq!(
        items,
        [
            (
                "NATO and the European Union step up cooperation on cyber defence".to_string(),
                "https://www.nato.int/cps/en/natohq/news_230145.htm".to_string(),
                "2026-11-24".to_string()
            ),
            (
                "Cyber Coalition exercise concludes in Estonia".to_string(),
                "https://www.nato.example/cps/en/natohq/news_230101.htm".to_string(),
                "2026-11-24".to_string()
            ),
            (
                "Secretary General meets the US Secretary of State".to_string(),
                "https://www.nato.int/cps/en/natohq/news_230120.htm".to_string(),
                "2026-11-23".to_string()
            ),
        ]
    );
    let texts = p.store().texts(0, 10).unwrap();
    assert!(
        texts
            .iter()
            .any(|t| t.body
                == "Allies and the EU agreed to share more information on cyber threats."),
        "{texts:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_selector_matching_nothing_shows_in_feed_health() {
    let site = Site::start().await;
    let dir = tempfile::tempdir().unwrap();
    let nato_moved = nato_feed(&site)
        .replace("nato-news", "nato-moved")
        .replace("responses.0.hits.hits", "data.items");
    let config = write_config(
        dir.path(),
        &[
            eeas_feed(&site, "eeas-press", "/redesigned", 1, "never"),
            nato_moved,
        ],
    );
    let p = pipeline(&config);
    let mut reports = poll(&p).await;
    reports.sort_by(|a, b| a.0.cmp(&b.0));
    let expected = format!(
        "html source: selector \"div.card\" matched nothing on {}",
        site.url("/redesigned")
    );
    assert_eq!(
        reports[0].1,
        Outcome::Failed {
            status: Some(200),
            error: expected.clone()
        }
    );
    let health = p.store().feeds().unwrap();
    assert_eq!(health[0].error_count, 1);
    assert_eq!(health[0].last_error.as_deref(), Some(expected.as_str()));
    assert_eq!(
        health[1].last_error.as_deref(),
        Some(
            format!(
                "json source: path \"data.items\" does not resolve on {}: no key \"data\" at the top level (keys: responses, took)",
                site.url("/api/search")
            )
            .as_str()
        )
    );
    drop(p);

    let out = veille(&["--config", config.to_str().unwrap(), "feeds"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(
        table.lines().any(|l| l.starts_with("eeas-press")
            && l.contains("erroring")
            && l.ends_with(&expected)),
        "{table}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn preview_source_prints_items_and_stores_nothing() {
    let site = Site::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &[
            eeas_feed(&site, "eeas-press", "/eeas/press-material_en", 2, "auto"),
            nato_feed(&site),
        ],
    );
    let config = config.to_str().unwrap();

    // A configured source, as text.
    let out = veille(&["--config", config, "preview-source", "eeas-press"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("eeas-press (html source): 5 items from 2 pages\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  1. EU and NATO hold staff talks on cyber defence cooperation\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "     link:    {}\n     date:    2026-11-24 00:00\n     summary: Staff of the EEAS and NATO met",
            site.url("/eeas/eu-nato-cyber-staff-talks_en")
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "next page read: {}",
            site.url("/eeas/press-material_en?page=1")
        )),
        "{stdout}"
    );

    // Ad hoc, as JSON: another selector for the title, one page only.
    let url = site.url("/eeas/press-material_en");
    let out = veille(&[
        "--config",
        config,
        "preview-source",
        "--url",
        &url,
        "--kind",
        "html",
        "--item",
        "div.card",
        "--link",
        "h5.card-title a",
        "--title",
        "span.card-type",
        "--json",
    ])
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["count"], 3, "{v}");
    assert_eq!(v["kind"], "html");
    assert_eq!(v["items"][1]["title"], "Statement");
    assert_eq!(v["items"][0]["published"], serde_json::Value::Null);
    assert_eq!(v["pages"].as_array().unwrap().len(), 1);

    // The JSON source by name.
    let out = veille(&["--config", config, "preview-source", "nato-news", "--json"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["count"], 3, "{v}");
    assert_eq!(v["items"][0]["guid"], "230145");

    // A selector that matches nothing fails with the words shown in health.
    let out = veille(&[
        "--config",
        config,
        "preview-source",
        "--url",
        &url,
        "--item",
        "li.result",
        "--link",
        "a",
    ])
    .await;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains(&format!(
            "html source: selector \"li.result\" matched nothing on {url}"
        )),
        "{}",
        text(&out.stderr)
    );
    // A bad selector names its flag.
    let out = veille(&[
        "--config",
        config,
        "preview-source",
        "--url",
        &url,
        "--item",
        "div[",
        "--link",
        "a",
    ])
    .await;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--item: invalid CSS selector"),
        "{}",
        text(&out.stderr)
    );

    assert!(
        !dir.path().join("veille.db").exists(),
        "preview-source must not create or write the database"
    );
    // Article pages are not fetched by a preview.
    assert!(
        site.requests("/eeas/eu-nato-cyber-staff-talks_en")
            .is_empty()
    );
}

#[tokio::test]
async fn check_names_the_key_of_a_bad_source() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[feeds]]\nname = \"eeas\"\nurl = \"https://x.eu/press\"\nkind = \"html\"\n[feeds.html]\nitem = \"div.card\"\nlink = \"a >\"\n",
    )
    .unwrap();
    let out = veille(&["--config", bad.to_str().unwrap(), "check"]).await;
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("bad.toml:7:8: key `feeds[0].html.link`: invalid CSS selector \"a >\""),
        "{err}"
    );

    std::fs::write(
        &bad,
        "[[feeds]]\nname = \"eeas\"\nurl = \"https://x.eu/press\"\nkind = \"html\"\n",
    )
    .unwrap();
    let out = veille(&["--config", bad.to_str().unwrap(), "check"]).await;
    let err = text(&out.stderr);
    assert!(
        err.contains(
            "bad.toml:4:8: key `feeds[0].html`: kind = \"html\" needs a [feeds.html] table"
        ),
        "{err}"
    );
}

/// The shipped source definitions: the default configuration parses, the EEAS rules read the
/// EEAS-shaped fixture, and the commented JSON variant for NATO, uncommented, reads the
/// NATO-shaped search response.
#[test]
fn shipped_source_definitions_read_the_fixtures() {
    use veille::pipeline::sources::{Source, parse_page};
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/veille.toml");
    let shipped = std::fs::read_to_string(&path).unwrap();
    let config = Config::from_str(&shipped, &path).unwrap();

    let eeas = config.feed("eeas-press").unwrap();
    assert!(!eeas.enabled, "unverified sources ship disabled");
    assert!(matches!(eeas.source, Source::Html(_)));
    let page = std::fs::read(fixtures().join("eeas-press-1.html")).unwrap();
    let parsed = parse_page(&page, None, eeas.url.as_str(), &eeas.source).unwrap();
    let titles: Vec<_> = parsed.feed.items.iter().map(|i| i.title.as_str()).collect();
    assert_eq!(titles.len(), 3, "{titles:?}");
    assert_eq!(
        titles[0],
        "EU and NATO hold staff talks on cyber defence cooperation"
    );
    assert_eq!(
        parsed.next.as_deref(),
        Some("https://www.eeas.europa.eu/eeas/press-material_en?page=1")
    );
    let nato = config.feed("nato-news").unwrap();
    assert!(!nato.enabled && nato.source.kind() == "html");
    let page = std::fs::read(fixtures().join("nato-news.html")).unwrap();
    let parsed = parse_page(&page, None, nato.url.as_str(), &nato.source).unwrap();
    let read: Vec<_> = parsed
        .feed
        .items
        .iter()
        .map(|i| {
            (
                i.title.as_str(),
                i.url.as_deref().unwrap(),
                i.published.unwrap().format("%Y-%m-%d").to_string(),
            )
        })
        .collect();
    assert_eq!(
        read,
        [
            (
                "NATO and the European Union step up cooperation on cyber defence",
                "https://www.nato.int/cps/en/natohq/news_230145.htm",
                "2025-08-07".to_string()
            ),
            (
                "Cyber Coalition exercise concludes in Estonia",
                "https://www.nato.int/cps/en/natohq/news_230101.htm?selectedLocale=en",
                "2025-08-05".to_string()
            ),
            (
                "Secretary General meets the US Secretary of State",
                "https://www.nato.int/cps/en/natohq/news_230120.htm",
                "2025-07-31".to_string()
            ),
        ]
    );

    // Uncomment the JSON alternative (every `# ` line from its `[[feeds]]` on) and read it.
    let start = shipped
        .find("# [[feeds]]\n# name = \"nato-news-json\"")
        .unwrap();
    let block: String = shipped[start..]
        .lines()
        .take_while(|l| l.starts_with("# "))
        .map(|l| format!("{}\n", &l[2..]))
        .collect();
    let alt = Config::from_str(&block, &path).unwrap();
    let json = alt.feed("nato-news-json").unwrap();
    let body = std::fs::read(fixtures().join("nato-search.json")).unwrap();
    let parsed = parse_page(&body, None, json.url.as_str(), &json.source).unwrap();
    assert_eq!(parsed.feed.items.len(), 3);
    assert_eq!(
        parsed.feed.items[0].url.as_deref(),
        Some("https://www.nato.int/cps/en/natohq/news_230145.htm")
    );
}
