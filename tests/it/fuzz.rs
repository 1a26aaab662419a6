//! Property tests (proptest): feed parsing, HTML → text, article extraction and configuration
//! parsing never panic, on arbitrary bytes and on mutations of the checked-in fixtures.
//!
//! 256 cases per property by default; `PROPTEST_CASES=5000 cargo test --test main fuzz::` runs
//! more. A failing case is shrunk and saved under `proptest-regressions/` to be replayed first.

use std::path::Path;

use proptest::prelude::*;
use veille::config::{Config, DEFAULT_CONFIG};
use veille::pipeline::charset::decode_html;
use veille::pipeline::extract::Extractor;
use veille::pipeline::parse::parse_feed;
use veille::pipeline::text::html_to_text;

const FEEDS: &[&str] = &[
    "atom.xml",
    "feed.json",
    "latin1.xml",
    "malformed.xml",
    "rss091.xml",
    "rss1.rdf",
    "rss2.xml",
    "short-summaries.xml",
];
const PAGES: &[&str] = &[
    "commission-agriculture-it.html",
    "consent-wall.html",
    "eeas-sahel-fr.html",
    "generic-divs-en.html",
    "login-wall.html",
];

fn data(dir: &str, name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(dir)
            .join(name),
    )
    .unwrap()
}

/// One edit of a byte string, at a position given as a fraction of its length.
#[derive(Debug, Clone)]
enum Edit {
    Flip(f64, u8),
    Delete(f64, usize),
    Insert(f64, Vec<u8>),
    Duplicate(f64, usize),
    Truncate(f64),
}

fn edit() -> impl Strategy<Value = Edit> {
    let at = 0.0..1.0f64;
    prop_oneof![
        (at.clone(), any::<u8>()).prop_map(|(a, b)| Edit::Flip(a, b)),
        (at.clone(), 1..200usize).prop_map(|(a, n)| Edit::Delete(a, n)),
        (
            at.clone(),
            prop_oneof![
                prop::collection::vec(any::<u8>(), 1..16),
                prop::sample::select(vec![
                    b"<".to_vec(),
                    b"</item>".to_vec(),
                    b"<![CDATA[".to_vec(),
                    b"&amp;".to_vec(),
                    b"&#x0;".to_vec(),
                    b"<!DOCTYPE x [<!ENTITY a \"aaaa\">]>".to_vec(),
                    b"\"".to_vec(),
                    b"{".to_vec(),
                    "\u{feff}".as_bytes().to_vec(),
                ]),
            ]
        )
            .prop_map(|(a, b)| Edit::Insert(a, b)),
        (at.clone(), 1..400usize).prop_map(|(a, n)| Edit::Duplicate(a, n)),
        at.prop_map(Edit::Truncate),
    ]
}

fn apply(mut doc: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let pos = |f: f64, len: usize| ((len as f64) * f) as usize;
        let len = doc.len();
        match e {
            Edit::Flip(f, b) if len > 0 => {
                let i = pos(*f, len).min(len - 1);
                doc[i] ^= b | 1;
            }
            Edit::Delete(f, n) => {
                let i = pos(*f, len);
                doc.drain(i..(i + n).min(len));
            }
            Edit::Insert(f, bytes) => {
                let i = pos(*f, len);
                doc.splice(i..i, bytes.iter().copied());
            }
            Edit::Duplicate(f, n) => {
                let i = pos(*f, len);
                let chunk = doc[i..(i + n).min(len)].to_vec();
                doc.splice(i..i, chunk);
            }
            Edit::Truncate(f) => doc.truncate(pos(*f, len)),
            _ => {}
        }
    }
    doc
}

proptest! {
    #[test]
    fn feed_parsing_never_panics_on_arbitrary_bytes(
        body in prop::collection::vec(any::<u8>(), 0..2048),
        ctype in prop::option::of(prop::sample::select(vec![
            "application/rss+xml", "text/xml; charset=utf-16", "application/json",
            "text/html; charset=x-unknown", "application/atom+xml; charset=windows-1252",
        ])),
    ) {
        let _ = parse_feed(&body, ctype, "https://example.eu/feed");
    }

    #[test]
    fn feed_parsing_never_panics_on_mutated_fixtures(
        which in 0..FEEDS.len(),
        edits in prop::collection::vec(edit(), 1..8),
    ) {
        let doc = apply(data("feeds", FEEDS[which]), &edits);
        if let Ok(feed) = parse_feed(&doc, None, "https://example.eu/feed") {
            for item in &feed.items {
                // Links that survive are absolute http(s) URLs.
                if let Some(url) = &item.url {
                    prop_assert!(url.starts_with("http://") || url.starts_with("https://"), "{url}");
                }
            }
        }
    }

    #[test]
    fn html_to_text_never_panics(html in "(<[a-z/!]{0,8}[^>]{0,12}>?|&[#a-z0-9]{0,6};?|[^<&]{0,12}){0,64}") {
        let text = html_to_text(&html);
        prop_assert!(!text.contains("\n\n"));
    }

    #[test]
    fn extraction_never_panics_on_mutated_pages(
        which in 0..PAGES.len(),
        edits in prop::collection::vec(edit(), 1..8),
    ) {
        let (html, _) = decode_html(&apply(data("pages", PAGES[which]), &edits), None);
        let base = url::Url::parse("https://example.eu/news/a").unwrap();
        let extractor = Extractor::new(&Default::default()).unwrap();
        let _ = extractor.extract_with_language(&html, Some(&base), Some("en"));
    }

    #[test]
    fn extraction_never_panics_on_arbitrary_markup(
        html in "(<(div|p|article|main|span|a href=\"[^\"]{0,8}\"|script|h1|li|ul|meta [a-z]{0,5}=\"[^\"]{0,6}\")>|</[a-z]{1,7}>|[^<]{0,30}){0,80}",
    ) {
        let extractor = Extractor::new(&Default::default()).unwrap();
        let _ = extractor.extract_with_language(&html, None, None);
    }

    #[test]
    fn config_parsing_never_panics_on_toml_ish_text(
        lines in prop::collection::vec(
            prop_oneof![
                prop::sample::select(vec![
                    "[storage]", "[fetch]", "[server]", "[classifier]", "[[feeds]]", "[mail]",
                    "[[watchlists]]", "[fetch", "]]", "database = \"x.db\"", "timeout = \"5s\"",
                    "per_host_delay = \"-1s\"", "max_items_per_feed = 0", "per_host = 0",
                    "allow_private_networks = \"yes\"", "name = \"a\"", "name = \"\"",
                    "url = \"https://x.eu/rss\"", "url = \"ftp://x\"", "every = \"1s\"",
                    "every = 5", "language = \"ga\"", "listen = \"::1\"", "fetch_article = \"x\"",
                    "remove_selectors = [\"div[\"]", "content_selector = \"\"", "topics = []",
                    "schedule = \"0 8 * * *\"", "recipients = [\"a@b\"]", "= =", "\"", "#",
                ]).prop_map(str::to_string),
                "[a-z_]{1,12} = (\"[^\"\\n]{0,10}\"|[0-9]{1,4}|true|\\[\\])",
                "[^\\n]{0,20}",
            ],
            0..24,
        ),
    ) {
        let text = lines.join("\n");
        let _ = Config::from_str(&text, Path::new("fuzz/veille.toml"));
    }

    #[test]
    fn config_parsing_never_panics_on_the_mutated_default(
        edits in prop::collection::vec(edit(), 1..6),
    ) {
        let doc = apply(DEFAULT_CONFIG.as_bytes().to_vec(), &edits);
        let text = String::from_utf8_lossy(&doc);
        if let Err(e) = Config::from_str(&text, Path::new("fuzz/veille.toml")) {
            // Errors name the file.
            prop_assert!(e.to_string().starts_with("fuzz/veille.toml"), "{e}");
        }
    }
}
