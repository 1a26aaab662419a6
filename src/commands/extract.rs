//! `veille extract [--json] FILE|URL`: extracts the article of one page and prints its text
//! (or, with `--json`, its text, title, language, status and publication date).

use crate::pipeline::charset::decode_html;
use crate::pipeline::extract::{Extractor, Options};
use anyhow::Context as _;
use std::io::Read as _;
use std::process::ExitCode;
use std::time::Duration;

/// Extract the article text of a saved page or of a URL.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// An HTML file (`.gz` is decompressed) or an http(s) URL.
    pub source: String,
    /// Print JSON: text, title, language, status, published.
    #[arg(long)]
    pub json: bool,
    /// CSS selector of the article content (as the per-feed `content_selector`).
    #[arg(long)]
    pub content_selector: Option<String>,
    /// CSS selector of elements to drop first (as `remove_selectors`); repeatable.
    #[arg(long = "remove-selector")]
    pub remove_selectors: Vec<String>,
    /// Timeout for fetching a URL.
    #[arg(long, default_value = "20s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
}

/// A page as received: body bytes and the HTTP headers that matter for extraction.
struct Page {
    bytes: Vec<u8>,
    content_type: Option<String>,
    content_language: Option<String>,
    url: Option<url::Url>,
}

pub async fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let extractor = Extractor::new(&Options {
        content_selector: args.content_selector.clone(),
        remove_selectors: args.remove_selectors.clone(),
    })?;
    let page = if args.source.starts_with("http://") || args.source.starts_with("https://") {
        fetch(&args.source, args.timeout).await?
    } else {
        Page {
            bytes: read_file(std::path::Path::new(&args.source))?,
            content_type: None,
            content_language: None,
            url: None,
        }
    };
    let (html, _) = decode_html(&page.bytes, page.content_type.as_deref());
    let article =
        extractor.extract_with_language(&html, page.url.as_ref(), page.content_language.as_deref());
    if args.json {
        println!("{}", serde_json::to_string_pretty(&article)?);
    } else {
        if article.status != crate::pipeline::extract::Status::Ok {
            eprintln!("status: {}", article.status);
        }
        println!("{}", article.text);
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads a saved page, decompressing `.gz` files.
pub fn read_file(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    let raw = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(raw.as_slice())
            .read_to_end(&mut out)
            .with_context(|| format!("{} is not valid gzip", path.display()))?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

async fn fetch(source: &str, timeout: Duration) -> anyhow::Result<Page> {
    let url = url::Url::parse(source).with_context(|| format!("invalid URL {source}"))?;
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("veille/", env!("CARGO_PKG_VERSION")))
        .build()?;
    let response = client
        .get(url.clone())
        .send()
        .await
        .with_context(|| format!("fetching {url}"))?
        .error_for_status()?;
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let content_type = header(reqwest::header::CONTENT_TYPE);
    let content_language = header(reqwest::header::CONTENT_LANGUAGE);
    let final_url = response.url().clone();
    let bytes = response
        .bytes()
        .await
        .with_context(|| format!("reading {url}"))?
        .to_vec();
    Ok(Page {
        bytes,
        content_type,
        content_language,
        url: Some(final_url),
    })
}
