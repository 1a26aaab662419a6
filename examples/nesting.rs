//! Cost of deeply nested HTML, with a baseline measured beside it (issue 15, defect 4).
//!
//! For each depth, every stage that parses HTML is timed on `<div>`s nested that deep and, as
//! the baseline, on the same number of `<div>`s side by side (the same bytes but flat). A stage
//! that is linear in its input shows a ratio near 1 at every depth; a quadratic one shows a
//! ratio that grows with the depth.
//!
//! ```sh
//! cargo run --release --example nesting                 # depths 10,000 and 100,000
//! cargo run --release --example nesting -- 25000 50000  # other depths
//! cargo run --release --example nesting -- --pages ../shared/extraction-benchmark/html
//! ```
//!
//! `--pages DIR` measures instead what the cap costs on real pages (`*.html` or `*.html.gz`):
//! the pre-pass alone against the HTML parse it precedes, over every page of the directory.
//!
//! Stages: `html_to_text` (feed summaries), `parse_feed` (an RSS item whose description holds
//! the markup, as a hostile feed sends it), `parse_page` (an HTML listing page) and article
//! extraction (`veille extract`); `limit_depth` is the pre-pass that caps the depth, alone.

use std::time::{Duration, Instant};

use veille::pipeline::extract::{Extractor, Options};
use veille::pipeline::parse::parse_feed;
use veille::pipeline::sources::{HtmlRules, Source, parse_page};
use veille::pipeline::text::html_to_text;

/// `depth` nested `<div>`s around a word.
fn nested(depth: usize) -> String {
    format!("{}deep{}", "<div>".repeat(depth), "</div>".repeat(depth))
}

/// The baseline: as many `<div>`s, side by side.
fn flat(depth: usize) -> String {
    let mut s = "<div></div>".repeat(depth - 1);
    s.push_str("<div>deep</div>");
    s
}

/// One stage under test, run on some markup.
type Stage<'a> = Box<dyn Fn(&str) + 'a>;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn rss(markup: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title>\
         <item><guid>1</guid><title>Nested</title><link>https://x.eu/a</link>\
         <description>{}</description></item></channel></rss>",
        escape(markup)
    )
}

fn page(markup: &str) -> String {
    format!(
        "<html><head><title>t</title></head><body><ul><li class=\"card\"><a href=\"/a\">A</a></li></ul>\
         <article><h1>Title</h1><p>{}</p>{markup}</article></body></html>",
        "An article paragraph with enough words to count as text. ".repeat(20)
    )
}

/// The fastest of a few runs; one run when a run takes more than two seconds.
fn time(mut f: impl FnMut()) -> Duration {
    let mut best = Duration::MAX;
    let started = Instant::now();
    for _ in 0..5 {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed());
        if started.elapsed() > Duration::from_secs(2) {
            break;
        }
    }
    best
}

/// The pre-pass against the parse on every page of `dir`.
fn real_pages(dir: &std::path::Path) {
    use std::io::Read as _;
    let mut pages = Vec::new();
    for entry in std::fs::read_dir(dir).expect("a directory of pages") {
        let path = entry.expect("entry").path();
        let name = path.to_string_lossy().into_owned();
        let raw = std::fs::read(&path).expect("page");
        let bytes = if name.ends_with(".html.gz") {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(raw.as_slice())
                .read_to_end(&mut out)
                .expect("gzip");
            out
        } else if name.ends_with(".html") {
            raw
        } else {
            continue;
        };
        pages.push(String::from_utf8_lossy(&bytes).into_owned());
    }
    let bytes: usize = pages.iter().map(String::len).sum();
    let capped = pages
        .iter()
        .filter(|p| {
            matches!(
                veille::pipeline::nesting::limit_depth(p),
                std::borrow::Cow::Owned(_)
            )
        })
        .count();
    let pre = time(|| {
        for p in &pages {
            std::hint::black_box(veille::pipeline::nesting::limit_depth(p));
        }
    });
    let parse = time(|| {
        for p in &pages {
            std::hint::black_box(scraper::Html::parse_document(p));
        }
    });
    println!(
        "{} pages, {:.1} MB: limit_depth {:.1} ms, html5ever parse {:.1} ms, ratio {:.3}; pages changed by the cap: {capped}",
        pages.len(),
        bytes as f64 / 1e6,
        pre.as_secs_f64() * 1e3,
        parse.as_secs_f64() * 1e3,
        pre.as_secs_f64() / parse.as_secs_f64()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, dir] = args.as_slice()
        && flag == "--pages"
    {
        return real_pages(std::path::Path::new(dir));
    }
    let depths: Vec<usize> = args
        .iter()
        .map(|a| {
            a.parse()
                .expect("depths are whole numbers (or --pages DIR)")
        })
        .collect();
    let depths = if depths.is_empty() {
        vec![10_000, 100_000]
    } else {
        depths
    };
    let extractor = Extractor::new(&Options::default()).expect("default extractor");
    let listing = Source::Html(HtmlRules {
        item: "li.card".into(),
        link: "a".into(),
        title: None,
        date: None,
        summary: None,
        next_page: None,
        max_pages: 1,
    });
    println!(
        "{:<12} {:>9} {:>14} {:>14} {:>8}",
        "stage", "depth", "nested", "flat (base)", "ratio"
    );
    for depth in depths {
        let (deep, base) = (nested(depth), flat(depth));
        let stages: [(&str, Stage<'_>); 5] = [
            (
                "limit_depth",
                Box::new(|m: &str| {
                    std::hint::black_box(veille::pipeline::nesting::limit_depth(m));
                }),
            ),
            (
                "html_to_text",
                Box::new(|m: &str| {
                    std::hint::black_box(html_to_text(m));
                }),
            ),
            (
                "parse_feed",
                Box::new(|m: &str| {
                    let doc = rss(m);
                    std::hint::black_box(parse_feed(doc.as_bytes(), None, "https://x.eu/rss").ok());
                }),
            ),
            (
                "parse_page",
                Box::new(|m: &str| {
                    let doc = page(m);
                    std::hint::black_box(
                        parse_page(doc.as_bytes(), None, "https://x.eu/", &listing).ok(),
                    );
                }),
            ),
            (
                "extract",
                Box::new(|m: &str| {
                    let doc = page(m);
                    std::hint::black_box(extractor.extract(&doc, None));
                }),
            ),
        ];
        for (name, stage) in &stages {
            let nested_t = time(|| stage(&deep));
            let flat_t = time(|| stage(&base));
            println!(
                "{name:<12} {depth:>9} {:>11.1} ms {:>11.1} ms {:>8.1}",
                nested_t.as_secs_f64() * 1e3,
                flat_t.as_secs_f64() * 1e3,
                nested_t.as_secs_f64() / flat_t.as_secs_f64()
            );
        }
    }
}
