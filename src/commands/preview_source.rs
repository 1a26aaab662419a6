//! `veille preview-source NAME` or `veille preview-source --url URL --kind html --item SEL
//! --link SEL …`: fetches a source once (with its next pages) and prints the items it would give,
//! so selectors and paths can be tuned before they are saved. Nothing is written anywhere.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use serde::Serialize;
use veille::config::Config;
use veille::pipeline::fetch::{Fetcher, Validators};
use veille::pipeline::sources::{
    self, DEFAULT_MAX_PAGES, HtmlRules, JsonPath, JsonRules, MAX_PAGES_LIMIT, RuleError, Source,
};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A configured feed (any kind); or give --url and the rules instead
    #[arg(required_unless_present = "url", conflicts_with = "url")]
    name: Option<String>,
    /// Ad hoc: the page or endpoint to read
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// Ad hoc: what the URL serves
    #[arg(long, value_enum, default_value_t = KindArg::Html)]
    kind: KindArg,
    /// html: CSS selector of one item; json: path of the items array (e.g. data.items)
    #[arg(long, visible_alias = "items", value_name = "SEL|PATH")]
    item: Option<String>,
    /// html: selector of the link within an item; json: path of the link within an item
    #[arg(long, value_name = "SEL|PATH")]
    link: Option<String>,
    /// Title within an item (html default: the link's text)
    #[arg(long, value_name = "SEL|PATH")]
    title: Option<String>,
    /// Date within an item (attribute datetime/content, or text)
    #[arg(long, value_name = "SEL|PATH")]
    date: Option<String>,
    /// Summary within an item
    #[arg(long, value_name = "SEL|PATH")]
    summary: Option<String>,
    /// html: selector of the link to the next page
    #[arg(long, value_name = "SEL")]
    next_page: Option<String>,
    /// html: pages to read, the first included (default 3 with --next-page)
    #[arg(long, value_name = "N")]
    max_pages: Option<u32>,
    /// json: path of a stable id within an item (default: the link)
    #[arg(long, value_name = "PATH")]
    guid: Option<String>,
    /// json: base of relative links (default: the URL)
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// Print one JSON document instead of text
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum KindArg {
    Rss,
    Html,
    Json,
}

/// One item as it would be stored.
#[derive(Serialize)]
struct Preview<'a> {
    title: &'a str,
    link: Option<&'a str>,
    guid: &'a str,
    published: Option<chrono::DateTime<chrono::Utc>>,
    summary: &'a str,
}

#[derive(Serialize)]
struct Report<'a> {
    source: Option<&'a str>,
    kind: &'static str,
    url: &'a str,
    pages: &'a [String],
    count: usize,
    items: Vec<Preview<'a>>,
    page_errors: &'a [String],
    /// What was wrong with the document but recovered (malformed XML repaired).
    warnings: &'a [String],
}

pub async fn run(config: Option<&Path>, args: &Args) -> anyhow::Result<ExitCode> {
    let config = Config::load(config)?;
    let (url, source) = match &args.name {
        Some(name) => {
            if args.has_rules() {
                bail!(
                    "the rules of a configured source come from its configuration; use --url instead of {name:?} to try other rules"
                );
            }
            let feed = config.feed(name).with_context(|| {
                format!(
                    "no feed named {name:?} in {}; `veille feeds` lists them",
                    super::config_name(&config)
                )
            })?;
            (feed.url.to_string(), feed.source.clone())
        }
        None => {
            let url = args.url.clone().expect("clap requires --url without NAME");
            url::Url::parse(&url).with_context(|| format!("invalid --url {url:?}"))?;
            (url, args.source()?)
        }
    };

    let fetcher = Fetcher::new(&config.fetch)?;
    let fetched = fetcher
        .get(&url, &Validators::default())
        .await
        .map_err(|f| anyhow::anyhow!("fetching {url}: {}", f.error))?;
    let first = sources::parse_page_raw(
        &fetched.body,
        fetched.content_type.as_deref(),
        &fetched.final_url,
        &source,
    )?;
    let mut listing =
        veille::pipeline::listing::follow_pages(&fetcher, &source, &url, &fetched.final_url, first)
            .await;
    listing
        .feed
        .items
        .iter_mut()
        .for_each(veille::pipeline::clean::finish);

    let items: Vec<Preview<'_>> = listing
        .feed
        .items
        .iter()
        .map(|it| Preview {
            title: &it.title,
            link: it.url.as_deref(),
            guid: &it.guid,
            published: it.published,
            summary: &it.text,
        })
        .collect();
    if args.json {
        let report = Report {
            source: args.name.as_deref(),
            kind: source.kind(),
            url: &url,
            pages: &listing.pages,
            count: items.len(),
            items,
            page_errors: &listing.failures,
            warnings: &listing.feed.warnings,
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} ({} source): {} items from {} page{}",
        args.name.as_deref().unwrap_or(&url),
        source.kind(),
        items.len(),
        listing.pages.len(),
        if listing.pages.len() == 1 { "" } else { "s" }
    );
    for warning in &listing.feed.warnings {
        println!("warning: {warning}");
    }
    for (i, it) in items.iter().enumerate() {
        println!("{:>3}. {}", i + 1, it.title);
        println!("     link:    {}", it.link.unwrap_or("-"));
        println!("     date:    {}", super::short_time(it.published));
        if !it.summary.is_empty() {
            println!("     summary: {}", shorten(it.summary, 160));
        }
    }
    for page in &listing.pages[1..] {
        println!("next page read: {page}");
    }
    for failure in &listing.failures {
        println!("stopped: {failure}");
    }
    Ok(ExitCode::SUCCESS)
}

impl Args {
    fn has_rules(&self) -> bool {
        [
            &self.item,
            &self.link,
            &self.title,
            &self.date,
            &self.summary,
            &self.next_page,
            &self.guid,
            &self.base_url,
        ]
        .iter()
        .any(|o| o.is_some())
            || self.max_pages.is_some()
    }

    /// The ad hoc source of the flags, validated like the configuration.
    fn source(&self) -> anyhow::Result<Source> {
        let flag = |field: &str| format!("--{}", field.replace('_', "-"));
        match self.kind {
            KindArg::Rss => {
                if self.has_rules() {
                    bail!("--kind rss takes no selectors or paths; use --kind html or --kind json");
                }
                Ok(Source::Rss)
            }
            KindArg::Html => {
                let (Some(item), Some(link)) = (&self.item, &self.link) else {
                    bail!(
                        "--kind html needs --item SELECTOR and --link SELECTOR (e.g. --item 'div.card' --link 'a[href]')"
                    );
                };
                if self.guid.is_some() || self.base_url.is_some() {
                    bail!("--guid and --base-url are for --kind json");
                }
                let max_pages = match (self.max_pages, &self.next_page) {
                    (Some(n), _) if !(1..=MAX_PAGES_LIMIT).contains(&n) => {
                        bail!("--max-pages {n} is out of range; expected 1 to {MAX_PAGES_LIMIT}")
                    }
                    (Some(n), _) => n,
                    (None, Some(_)) => DEFAULT_MAX_PAGES,
                    (None, None) => 1,
                };
                let rules = HtmlRules {
                    item: item.clone(),
                    link: link.clone(),
                    title: self.title.clone(),
                    date: self.date.clone(),
                    summary: self.summary.clone(),
                    next_page: self.next_page.clone(),
                    max_pages,
                };
                rules.validate().map_err(|RuleError { field, message }| {
                    anyhow::anyhow!("{}: {message}", flag(field))
                })?;
                Ok(Source::Html(rules))
            }
            KindArg::Json => {
                let (Some(items), Some(link)) = (&self.item, &self.link) else {
                    bail!(
                        "--kind json needs --items PATH and --link PATH (e.g. --items data.items --link url)"
                    );
                };
                if self.next_page.is_some() || self.max_pages.is_some() {
                    bail!("--next-page and --max-pages are for --kind html");
                }
                let path = |field: &str, p: &str| {
                    JsonPath::parse(p).map_err(|m| anyhow::anyhow!("{}: {m}", flag(field)))
                };
                let opt = |field: &str, p: &Option<String>| {
                    p.as_deref().map(|p| path(field, p)).transpose()
                };
                Ok(Source::Json(Box::new(JsonRules {
                    items: path("items", items)?,
                    link: path("link", link)?,
                    title: opt("title", &self.title)?,
                    date: opt("date", &self.date)?,
                    summary: opt("summary", &self.summary)?,
                    guid: opt("guid", &self.guid)?,
                    base_url: self
                        .base_url
                        .as_deref()
                        .map(|b| url::Url::parse(b).with_context(|| format!("--base-url {b:?}")))
                        .transpose()?,
                })))
            }
        }
    }
}

/// The first `max` characters of `s` on one line, with `…` when cut.
fn shorten(s: &str, max: usize) -> String {
    let line = s.replace('\n', " ");
    match line.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line,
    }
}
