//! Feed management: `veille feeds add` (discovery and a check fetch on a loopback server),
//! `remove`, `import` (OPML exports of miniflux, FreshRSS and Feedly) and `export` (OPML 2.0,
//! round trip of 500 feeds), each keeping the configuration file's comments.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::http::header;
use axum::routing::get;
use veille::config::Config;

use super::cli::veille;

const HEAD: &str = "# My veille configuration — hand-written comments must survive.\n\n\
    [storage]\ndatabase = \"veille.db\" # next to this file\n\n\
    [fetch]\nper_host_delay = \"0s\"\n\n\
    # ---- Feeds ----\n# One table per feed.\n\n\
    # the first feed\n[[feeds]]\nname = \"first\"\nurl = \"https://first.example/rss.xml\"\n\n\
    # ---- Mail ----\n[mail]\ntransport = \"outbox\"\noutbox = \"outbox\"\n";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/opml")
        .join(name)
}

fn write_config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("veille.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

async fn run_ok(args: &[&str]) -> String {
    let out = veille(args).await;
    assert!(out.status.success(), "veille {args:?}: {}", text(&out));
    text(&out)
}

/// (name, url, category, language) of every configured feed.
fn feeds_of(path: &Path) -> Vec<(String, String, Option<String>, Option<String>)> {
    let c = Config::from_file(path).unwrap();
    c.feeds
        .iter()
        .map(|f| {
            (
                f.name.clone(),
                f.url.to_string(),
                c.categories.get(&f.name).cloned(),
                f.language.clone(),
            )
        })
        .collect()
}

fn keeps_comments(after: &str) {
    for line in [
        "# My veille configuration — hand-written comments must survive.",
        "database = \"veille.db\" # next to this file",
        "# ---- Feeds ----\n# One table per feed.\n\n# the first feed\n[[feeds]]\nname = \"first\"",
        "# ---- Mail ----\n[mail]\ntransport = \"outbox\"",
    ] {
        assert!(after.contains(line), "lost {line:?}:\n{after}");
    }
}

/// An OPML fixture: the feeds it gives (name, URL, category, language), how many were already
/// configured, how many are skipped.
type Case = (
    &'static str,
    &'static [(
        &'static str,
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
    )],
    usize,
    usize,
);

#[tokio::test]
async fn opml_exports_of_miniflux_freshrss_and_feedly_import_with_their_categories() {
    let cases: [Case; 3] = [
        (
            "miniflux.opml",
            &[
                (
                    "council-of-the-eu-press-releases",
                    "https://www.consilium.europa.eu/en/rss/pressreleases.ashx",
                    Some("EU institutions"),
                    None,
                ),
                (
                    "digital-strategy",
                    "https://digital-strategy.ec.europa.eu/en/rss.xml",
                    Some("EU institutions"),
                    None,
                ),
                (
                    "enisa-news",
                    "https://www.enisa.europa.eu/news/RSS?a=1&b=2",
                    Some("Agencies & bodies"),
                    None,
                ),
                (
                    "europol-newsroom",
                    "https://www.europol.europa.eu/rss/news",
                    Some("Agencies & bodies"),
                    None,
                ),
                (
                    "agence-nationale-de-la-securite",
                    "https://cyber.gouv.example/actualites/feed",
                    Some("All"),
                    None,
                ),
            ],
            0,
            0,
        ),
        (
            "freshrss.opml",
            &[
                (
                    "cert-eu-security-advisories",
                    "https://cert.europa.eu/publications/security-advisories/rss",
                    Some("Sécurité"),
                    None,
                ),
                (
                    "nato-news",
                    "https://www.nato.int/cps/rss/en/natohq/rssFeed.xsl/rssFeed.xml",
                    Some("Sécurité"),
                    None,
                ),
                (
                    "eeas-press-material",
                    "https://www.eeas.europa.eu/eeas/press-material_en?f%5B0%5D=pm_category%3AStatement&format=rss",
                    Some("Presse"),
                    Some("en"),
                ),
            ],
            0,
            1, // the HTML+XPath page
        ),
        (
            "feedly.opml",
            &[
                (
                    "the-record",
                    "https://therecord.example/feed/",
                    Some("Cyber"),
                    None,
                ),
                (
                    "enisa-news",
                    "https://www.enisa.europa.eu/news/RSS",
                    Some("Cyber"),
                    None,
                ),
                (
                    "euractiv-tech",
                    "https://www.euractiv.example/sections/tech/feed/",
                    Some("Policy"),
                    None,
                ),
                (
                    "lawfare",
                    "https://www.lawfare.example/feeds/all",
                    None,
                    None,
                ),
            ],
            1, // ENISA under a second category
            0,
        ),
    ];
    for (file, expected, present, skipped) in cases {
        let dir = tempfile::tempdir().unwrap();
        let config = write_config(dir.path(), HEAD);
        let c = config.to_str().unwrap();
        let out = run_ok(&[
            "--config",
            c,
            "feeds",
            "import",
            fixture(file).to_str().unwrap(),
        ])
        .await;
        assert!(
            out.contains(&format!(
                "imported {} feeds from {}",
                expected.len(),
                fixture(file).display()
            )) && out.contains(&format!(
                "({present} already configured, {skipped} skipped)"
            )),
            "{file}: {out}"
        );
        let after = std::fs::read_to_string(&config).unwrap();
        keeps_comments(&after);
        let got = feeds_of(&config);
        assert_eq!(got[0].0, "first");
        let want: Vec<_> = expected
            .iter()
            .map(|(n, u, c, l)| {
                (
                    n.to_string(),
                    u.to_string(),
                    c.map(String::from),
                    l.map(String::from),
                )
            })
            .collect();
        assert_eq!(got[1..], want[..], "{file}:\n{after}");
        // new feeds sit with the others, before the mail section
        assert!(
            after.rfind("[[feeds]]").unwrap() < after.find("[mail]").unwrap(),
            "{after}"
        );
        // importing again adds nothing
        let out = run_ok(&[
            "--config",
            c,
            "feeds",
            "import",
            fixture(file).to_str().unwrap(),
        ])
        .await;
        assert!(out.contains("imported 0 feeds"), "{out}");
        assert_eq!(std::fs::read_to_string(&config).unwrap(), after);
        // the listing without a subcommand still works
        let out = run_ok(&["--config", c, "feeds"]).await;
        assert!(out.contains("FEED") && out.contains(&want[0].0), "{out}");
    }
}

#[tokio::test]
async fn opml_round_trip_of_500_feeds_keeps_names_urls_languages_and_categories() {
    let dir = tempfile::tempdir().unwrap();
    let langs = ["en", "fr", "de", "it", "pl", "ga"];
    let cats = [
        "EU institutions",
        "Agencies/Cyber",
        "Agencies/Defence",
        "Press & media",
        "Ελληνικά",
    ];
    let mut text = String::from("# 500 feeds\n[storage]\ndatabase = \"a.db\"\n");
    for i in 0..500 {
        text.push_str(&format!(
            "\n[[feeds]]\nname = \"feed-{i:03}\"\nurl = \"https://site{}.example/news/rss.xml?page={i}&lang=x\"\n",
            i % 37
        ));
        if i % 3 != 0 {
            text.push_str(&format!("language = \"{}\"\n", langs[i % langs.len()]));
        }
        if i % 4 != 0 {
            text.push_str(&format!("category = \"{}\"\n", cats[i % cats.len()]));
        }
    }
    let a = write_config(dir.path(), &text);
    let exported = run_ok(&["--config", a.to_str().unwrap(), "feeds", "export"]).await;
    assert!(
        exported.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">"),
        "{}",
        &exported[..200]
    );
    assert_eq!(exported.matches("xmlUrl=").count(), 500);
    assert!(
        exported.contains("<outline text=\"Agencies\""),
        "nested categories"
    );
    let opml = dir.path().join("feeds.opml");
    std::fs::write(&opml, &exported).unwrap();

    let bdir = dir.path().join("b");
    std::fs::create_dir(&bdir).unwrap();
    let b = write_config(&bdir, "# empty\n[storage]\ndatabase = \"b.db\"\n");
    let out = run_ok(&[
        "--config",
        b.to_str().unwrap(),
        "feeds",
        "import",
        opml.to_str().unwrap(),
    ])
    .await;
    assert!(out.contains("imported 500 feeds"), "{out}");
    let mut before = feeds_of(&a);
    let mut after = feeds_of(&b);
    before.sort();
    after.sort();
    assert_eq!(before.len(), 500);
    assert_eq!(after, before);
    // and out again: the same document but for its date
    let again = run_ok(&["--config", b.to_str().unwrap(), "feeds", "export"]).await;
    let undated = |s: &str| {
        s.lines()
            .filter(|l| !l.contains("dateCreated"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        undated(&again).lines().count(),
        undated(&exported).lines().count()
    );
    let mut x: Vec<&str> = exported.lines().filter(|l| l.contains("xmlUrl")).collect();
    let mut y: Vec<&str> = again.lines().filter(|l| l.contains("xmlUrl")).collect();
    x.sort();
    y.sort();
    assert_eq!(x, y);
}

#[tokio::test]
async fn an_unreadable_opml_file_is_named_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), HEAD);
    let bad = dir.path().join("bad.opml");
    std::fs::write(&bad, "<opml version=\"2.0\"><body><outline text=\"x\"").unwrap();
    let out = veille(&[
        "--config",
        config.to_str().unwrap(),
        "feeds",
        "import",
        bad.to_str().unwrap(),
    ])
    .await;
    assert!(!out.status.success());
    assert!(
        text(&out).contains("bad.opml") && text(&out).contains("OPML"),
        "{}",
        text(&out)
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), HEAD);
}

const RSS: &str = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Agency news</title><language>fr</language>\
    <item><title>One</title><link>https://agency.example/1</link><guid>1</guid></item>\
    <item><title>Two</title><link>https://agency.example/2</link><guid>2</guid></item></channel></rss>";

async fn site() -> String {
    let page = "<!DOCTYPE html><html><head><title>Agency</title>\
        <link rel=\"alternate\" type=\"application/rss+xml\" title=\"News\" href=\"/feeds/news.xml\">\
        </head><body><h1>Agency</h1></body></html>";
    let bare =
        "<!DOCTYPE html><html><head><title>Blog</title></head><body>no link here</body></html>";
    let xml = |body: &'static str| ([(header::CONTENT_TYPE, "application/rss+xml")], body);
    let html = |body: &'static str| ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body);
    let app = Router::new()
        .route("/agency/", get(move || async move { html(page) }))
        .route("/feeds/news.xml", get(move || async move { xml(RSS) }))
        .route("/blog/", get(move || async move { html(bare) }))
        .route("/rss.xml", get(move || async move { xml(RSS) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test]
async fn feeds_add_finds_the_feed_of_a_page_checks_it_and_appends_it_keeping_comments() {
    let base = site().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), HEAD);
    let c = config.to_str().unwrap();

    let page = format!("{base}/agency/");
    let out = run_ok(&[
        "--config",
        c,
        "feeds",
        "add",
        &page,
        "--every",
        "30m",
        "--category",
        "Agencies",
    ])
    .await;
    assert!(
        out.contains(&format!("found {base}/feeds/news.xml (Agency news, 2 items, language fr) via the page's <link rel=\"alternate\">")),
        "{out}"
    );
    assert!(
        out.contains("added feed \"agency-news\"") && out.contains("SIGHUP"),
        "{out}"
    );
    let after = std::fs::read_to_string(&config).unwrap();
    keeps_comments(&after);
    assert!(
        after.contains(&format!("# Agency news\n[[feeds]]\nname = \"agency-news\"\nurl = \"{base}/feeds/news.xml\"\nevery = \"30m\"\ncategory = \"Agencies\"\n\n# ---- Mail ----")),
        "{after}"
    );

    // a site that names no feed: found at a common path, name given
    let out = run_ok(&[
        "--config",
        c,
        "feeds",
        "add",
        &format!("{base}/blog/"),
        "--name",
        "blog",
        "--language",
        "FR",
    ])
    .await;
    assert!(
        out.contains(&format!("found {base}/rss.xml")) && out.contains("a common path"),
        "{out}"
    );
    let feeds = feeds_of(&config);
    assert_eq!(
        feeds[2],
        (
            "blog".into(),
            format!("{base}/rss.xml"),
            None,
            Some("fr".into())
        )
    );

    // the same feed again, or a taken name: refused, file unchanged
    let before = std::fs::read_to_string(&config).unwrap();
    let out = veille(&[
        "--config",
        c,
        "feeds",
        "add",
        &format!("{base}/feeds/news.xml"),
    ])
    .await;
    assert!(
        !out.status.success() && text(&out).contains("already configured as feed \"agency-news\""),
        "{}",
        text(&out)
    );
    let out = veille(&["--config", c, "feeds", "add", &page, "--name", "first"]).await;
    assert!(
        !out.status.success() && text(&out).contains("\"first\" is already configured"),
        "{}",
        text(&out)
    );
    // nothing that is a feed
    let out = veille(&[
        "--config",
        c,
        "feeds",
        "add",
        &format!("{base}/nothing-here"),
    ])
    .await;
    assert!(!out.status.success(), "{}", text(&out));
    let out = veille(&[
        "--config",
        c,
        "feeds",
        "add",
        &format!("{base}/agency/"),
        "--every",
        "5s",
    ])
    .await;
    assert!(
        !out.status.success() && text(&out).contains("too short"),
        "{}",
        text(&out)
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), before);

    // removed again: its table and its comment go, the rest stays
    run_ok(&["--config", c, "feeds", "remove", "agency-news"]).await;
    let after = std::fs::read_to_string(&config).unwrap();
    keeps_comments(&after);
    assert!(!after.contains("agency-news"), "{after}");
    // the comment above the removed table went with it; the blog's own (same title) stays
    assert_eq!(after.matches("# Agency news\n").count(), 1, "{after}");
    assert!(
        after.contains("# Agency news\n[[feeds]]\nname = \"blog\""),
        "{after}"
    );
    assert_eq!(feeds_of(&config).len(), 2);
}

#[tokio::test]
async fn a_page_without_a_feed_is_reported_with_every_url_tried() {
    let base = site().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), HEAD);
    // /agency/ names a feed, but /blog/ has none and /blog/… common paths are on the site root:
    // serve a site whose root has nothing either
    let app = Router::new().route(
        "/",
        get(|| async {
            (
                [(header::CONTENT_TYPE, "text/html")],
                "<html><body>hi</body></html>",
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let out = veille(&[
        "--config",
        config.to_str().unwrap(),
        "feeds",
        "add",
        &format!("http://{addr}/"),
    ])
    .await;
    assert!(!out.status.success());
    let msg = text(&out);
    assert!(
        msg.contains(&format!("no feed found at http://{addr}/")),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("http://{addr}/feed: "))
            && msg.contains(&format!("http://{addr}/rss.xml: ")),
        "{msg}"
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), HEAD);
    drop(base);
}

#[tokio::test]
async fn removing_a_feed_a_watch_list_names_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{HEAD}\n[[watchlists]]\nname = \"w\"\ntopics = [\"eu-nato-cyber\"]\nfeeds = [\"first\"]\nrecipients = [\"a@example.org\"]\nschedule = \"0 8 * * *\"\n"
    );
    let config = write_config(dir.path(), &text);
    let out = veille(&[
        "--config",
        config.to_str().unwrap(),
        "feeds",
        "remove",
        "first",
    ])
    .await;
    assert!(!out.status.success());
    let msg = text_of(&out);
    assert!(
        msg.contains("would not be valid") && msg.contains("watchlists[0].feeds"),
        "{msg}"
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), text);
    let out = veille(&[
        "--config",
        config.to_str().unwrap(),
        "feeds",
        "remove",
        "nope",
    ])
    .await;
    assert!(
        text_of(&out).contains("no feed named \"nope\"") && text_of(&out).contains("first"),
        "{}",
        text_of(&out)
    );
}

fn text_of(out: &std::process::Output) -> String {
    text(out)
}
