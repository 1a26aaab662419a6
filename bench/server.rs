//! Loopback feed server for the poll and memory benchmarks: generates N synthetic feeds
//! (alternating RSS 2.0 and Atom, deterministic from a seed, see `bench/synth.rs`), holds them in
//! memory and serves them with `ETag` and `Last-Modified`, answering 304 to `If-None-Match` /
//! `If-Modified-Since` so that a second poll costs no body at all.
//!
//! ```text
//! cargo build --release --example bench-server
//! target/release/examples/bench-server --feeds 1000 --items 20 --seed 42 --port 0
//! ```
//! The first line on stdout is `listening on http://ADDR`; feed `i` is at `/feeds/bench-0000i.xml`,
//! `/index.txt` lists every feed URL and `/stats` counts requests, 304s and body bytes.
//!
//! With `--articles 1` the feeds have the shape of most official feeds instead: each item a
//! one-sentence summary and a link to its article page on this server (`/articles/…`), a page
//! with navigation, the article (the item's paragraphs and as many again) and a footer, which
//! `fetch_article = "auto"` fetches and extracts (the storage benchmark, `bench/storage.py`).
//!
//! For the farm benchmark (`bench/farm.py`): `--bind 0.0.0.0 --hosts 200` lists the feeds in
//! contiguous blocks under the loopback addresses 127.0.0.2 … 127.0.0.201 (each one a "site" for
//! a client's per-host limits; Linux routes all of 127/8 to this machine) and `--delay-ms 150`
//! answers every feed request after that long, as a distant server would.

#[path = "synth.rs"]
mod synth;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

struct Doc {
    body: axum::body::Bytes,
    etag: HeaderValue,
    content_type: HeaderValue,
}

struct Served {
    docs: HashMap<String, Doc>,
    /// Article pages by path under `/articles/` (with `--articles 1`).
    articles: HashMap<String, axum::body::Bytes>,
    index: String,
    last_modified: HeaderValue,
    requests: AtomicU64,
    not_modified: AtomicU64,
    bytes: AtomicU64,
    delay: std::time::Duration,
}

struct Args {
    feeds: usize,
    items: usize,
    seed: u64,
    port: u16,
    threads: usize,
    articles: bool,
    /// The address to listen on.
    bind: std::net::IpAddr,
    /// Spread the feed URLs over this many loopback addresses from 127.0.0.2 (0: the listening
    /// address only).
    hosts: usize,
    /// Delay before each feed response.
    delay: std::time::Duration,
}

fn args() -> Args {
    let mut a = Args {
        feeds: 1000,
        items: 20,
        seed: 42,
        port: 0,
        threads: 1,
        articles: false,
        bind: std::net::Ipv4Addr::LOCALHOST.into(),
        hosts: 0,
        delay: std::time::Duration::ZERO,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--bind" {
            a.bind = it
                .next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| usage(&flag));
            continue;
        }
        let mut value = || {
            it.next()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or_else(|| usage(&flag))
        };
        match flag.as_str() {
            "--feeds" => a.feeds = value() as usize,
            "--items" => a.items = value() as usize,
            "--seed" => a.seed = value(),
            "--port" => a.port = value() as u16,
            "--threads" => a.threads = (value() as usize).max(1),
            "--articles" => a.articles = value() != 0,
            "--hosts" => a.hosts = (value() as usize).min(254),
            "--delay-ms" => a.delay = std::time::Duration::from_millis(value()),
            _ => usage(&flag),
        }
    }
    a
}

fn usage(flag: &str) -> ! {
    eprintln!(
        "bench-server: bad argument {flag:?}\n\
         usage: bench-server [--feeds N] [--items N] [--seed N] [--port N] [--threads N] \
         [--bind ADDR] [--hosts N] [--delay-ms N] [--articles 0|1]"
    );
    std::process::exit(2)
}

fn main() {
    let args = args();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(serve(args));
}

async fn serve(args: Args) {
    let listener = tokio::net::TcpListener::bind((args.bind, args.port))
        .await
        .expect("bind the listening address");
    let addr = listener.local_addr().expect("local address");
    let mut docs = HashMap::with_capacity(args.feeds);
    let mut articles = HashMap::new();
    let mut index = String::new();
    for i in 0..args.feeds {
        let format = if i % 2 == 0 {
            synth::Format::Rss2
        } else {
            synth::Format::Atom
        };
        let mut feed = synth::feed(args.seed, i, format, args.items);
        // In contiguous blocks: a configuration lists a site's feeds together.
        let host = match args.hosts {
            0 if addr.ip().is_unspecified() => format!("127.0.0.1:{}", addr.port()),
            0 => addr.to_string(),
            n => format!("127.0.0.{}:{}", 2 + i * n / args.feeds, addr.port()),
        };
        if args.articles {
            for it in &mut feed.items {
                let slug = it
                    .link
                    .trim_start_matches("https://news.bench.example/")
                    .to_string();
                it.link = format!("http://{host}/articles/{slug}");
                articles.insert(slug, article_page(feed.language, it).into());
                it.html = summary(it);
            }
        }
        let body = synth::render(&feed);
        let path = format!("{}.{}", feed.name, format.extension());
        index.push_str(&format!(
            "{}\t{}\thttp://{host}/feeds/{path}\n",
            feed.name, feed.language
        ));
        let etag = format!("\"{:016x}-{}\"", fnv1a(body.as_bytes()), body.len());
        docs.insert(
            path,
            Doc {
                body: body.into(),
                etag: HeaderValue::from_str(&etag).expect("ascii etag"),
                content_type: HeaderValue::from_static(format.content_type()),
            },
        );
    }
    let last_modified = chrono::Utc::now()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    let state = Arc::new(Served {
        docs,
        articles,
        index,
        last_modified: HeaderValue::from_str(&last_modified).expect("ascii date"),
        requests: AtomicU64::new(0),
        not_modified: AtomicU64::new(0),
        bytes: AtomicU64::new(0),
        delay: args.delay,
    });
    let app = Router::new()
        .route("/feeds/{path}", get(feed))
        .route("/articles/{*path}", get(article))
        .route(
            "/index.txt",
            get(|State(s): State<Arc<Served>>| async move { s.index.clone() }),
        )
        .route("/stats", get(stats))
        .with_state(state);
    let shown = if addr.ip().is_unspecified() {
        format!("127.0.0.1:{}", addr.port())
    } else {
        addr.to_string()
    };
    println!("listening on http://{shown}");
    axum::serve(listener, app).await.expect("serve");
}

async fn feed(State(s): State<Arc<Served>>, Path(path): Path<String>, req: HeaderMap) -> Response {
    s.requests.fetch_add(1, Ordering::Relaxed);
    if !s.delay.is_zero() {
        tokio::time::sleep(s.delay).await;
    }
    let Some(doc) = s.docs.get(&path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
    let fresh = match req.get(header::IF_NONE_MATCH) {
        Some(tags) => tags.to_str().is_ok_and(|t| {
            t.split(',')
                .any(|t| t.trim() == doc.etag || t.trim() == "*")
        }),
        None => req
            .get(header::IF_MODIFIED_SINCE)
            .is_some_and(|d| d == s.last_modified),
    };
    let headers = [
        (header::ETAG, doc.etag.clone()),
        (header::LAST_MODIFIED, s.last_modified.clone()),
    ];
    if fresh {
        s.not_modified.fetch_add(1, Ordering::Relaxed);
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    s.bytes.fetch_add(doc.body.len() as u64, Ordering::Relaxed);
    (
        headers,
        [(header::CONTENT_TYPE, doc.content_type.clone())],
        doc.body.clone(),
    )
        .into_response()
}

async fn article(State(s): State<Arc<Served>>, Path(path): Path<String>) -> Response {
    s.requests.fetch_add(1, Ordering::Relaxed);
    match s.articles.get(&path) {
        Some(page) => {
            s.bytes.fetch_add(page.len() as u64, Ordering::Relaxed);
            (
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                page.clone(),
            )
                .into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// An item's summary as most official feeds give it: its first sentence and a link.
fn summary(it: &synth::Item) -> String {
    let first = it
        .html
        .trim_start_matches("<p>")
        .split(". ")
        .next()
        .unwrap_or("")
        .trim_end_matches("</p>\n");
    format!(
        "<p>{}.</p>\n<p><a href=\"{}\">Read more</a></p>",
        first.trim_end_matches('.'),
        it.link
    )
}

/// The article page of an item: navigation, the article (its paragraphs, then the same again
/// reversed, so the text is two to three times a feed item's), related links, a footer.
fn article_page(language: &str, it: &synth::Item) -> String {
    let paragraphs: Vec<&str> = it.html.lines().filter(|l| !l.is_empty()).collect();
    let body: String = paragraphs
        .iter()
        .chain(paragraphs.iter().rev())
        .map(|p| format!("      {p}\n"))
        .collect();
    format!(
        "<!DOCTYPE html>\n<html lang=\"{language}\">\n<head><meta charset=\"utf-8\"><title>{title}</title>\n\
         <link rel=\"stylesheet\" href=\"/static/site.css\"></head>\n<body>\n\
         <header><nav><ul><li><a href=\"/\">Home</a></li><li><a href=\"/press\">Press corner</a></li>\
         <li><a href=\"/policies\">Policies</a></li><li><a href=\"/contact\">Contact</a></li></ul></nav></header>\n\
         <main><article>\n      <h1>{title}</h1>\n      <p class=\"date\">{date}</p>\n{body}    </article>\n\
         <aside><h2>Related</h2><ul><li><a href=\"/press/1\">Earlier statement</a></li>\
         <li><a href=\"/press/2\">Background note</a></li></ul></aside></main>\n\
         <footer><p>Legal notice · Cookies · Accessibility · Privacy</p></footer>\n</body>\n</html>\n",
        title = synth::escape(&it.title),
        date = chrono::DateTime::from_timestamp(it.published, 0)
            .map(|d| d.format("%d %B %Y").to_string())
            .unwrap_or_default(),
    )
}

async fn stats(State(s): State<Arc<Served>>) -> String {
    format!(
        "{{\"feeds\": {}, \"requests\": {}, \"not_modified\": {}, \"bytes\": {}}}\n",
        s.docs.len(),
        s.requests.load(Ordering::Relaxed),
        s.not_modified.load(Ordering::Relaxed),
        s.bytes.load(Ordering::Relaxed)
    )
}

/// FNV-1a, 64 bits: enough for a strong-enough ETag of generated text.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
