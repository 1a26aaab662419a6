//! `veille extract [--json] FILE|URL`: extracts the article of one page and prints its text
//! (or, with `--json`, its text, title, language, status and publication date).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use veille::config::Config;
use veille::eval::read_page;
use veille::pipeline::charset::decode_html;
use veille::pipeline::extract::{Extractor, Options, Status};
use veille::pipeline::fetch::{Fetcher, Validators};

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
}

/// A page as received: body bytes and the HTTP headers that matter for extraction.
struct Page {
    bytes: Vec<u8>,
    content_type: Option<String>,
    content_language: Option<String>,
    url: Option<url::Url>,
}

pub async fn run(config: Option<&Path>, args: &Args) -> anyhow::Result<ExitCode> {
    let extractor = Extractor::new(&Options {
        content_selector: args.content_selector.clone(),
        remove_selectors: args.remove_selectors.clone(),
    })?;
    let page = if args.source.starts_with("http://") || args.source.starts_with("https://") {
        fetch(config, &args.source).await?
    } else {
        Page {
            bytes: read_page(Path::new(&args.source))?,
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
        if article.status != Status::Ok {
            eprintln!("status: {}", article.status);
        }
        println!("{}", article.text);
    }
    Ok(ExitCode::SUCCESS)
}

/// Fetches a page with the configured fetcher (timeouts, body cap, User-Agent).
async fn fetch(config: Option<&Path>, source: &str) -> anyhow::Result<Page> {
    let config = Config::load(config)?;
    let url = url::Url::parse(source).with_context(|| format!("invalid URL {source}"))?;
    let fetcher = Fetcher::new(&config.fetch)?;
    let page = fetcher
        .get(url.as_str(), &Validators::default())
        .await
        .map_err(|f| anyhow::anyhow!("fetching {url}: {}", f.error))?;
    Ok(Page {
        url: url::Url::parse(&page.final_url).ok(),
        bytes: page.body,
        content_type: page.content_type,
        content_language: page.content_language,
    })
}
