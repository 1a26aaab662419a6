//! `veille refetch [--feed NAME] [--since WHEN]`: fetches again the article pages of stored
//! items that gave no text (blocked, down, behind a wall), once the cause is fixed, and stores
//! their text, language and topics.

use std::path::Path;
use std::process::ExitCode;

use anyhow::bail;
use chrono::{DateTime, Utc};

use super::plural;

#[derive(clap::Args)]
pub struct Args {
    /// Only items of this feed
    #[arg(long, value_name = "NAME")]
    feed: Option<String>,
    /// Only items fetched since: a date (2026-11-01), a timestamp (RFC 3339) or an age (36h, 7d)
    #[arg(long, value_name = "WHEN", value_parser = super::parse_since)]
    since: Option<DateTime<Utc>>,
}

pub async fn run(config: Option<&Path>, args: &Args) -> anyhow::Result<ExitCode> {
    let (config, pipeline) = super::pipeline(config)?;
    if let Some(feed) = &args.feed
        && config.feed(feed).is_none()
        && !pipeline.store().feeds()?.iter().any(|f| &f.name == feed)
    {
        bail!("no feed named {feed:?}; `veille feeds` lists them");
    }
    let report = pipeline.refetch(args.feed.as_deref(), args.since).await?;
    if report.items.is_empty() {
        println!("refetch: no stored item is missing its article text");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "refetch: {}: {} now with their article text, {} still without",
        plural(report.items.len(), "item", "items"),
        report.fixed(),
        report.items.len() - report.fixed()
    );
    for i in &report.items {
        let topics = if i.topics == i.topics_before {
            String::new()
        } else {
            format!("; topics {} -> {}", list(&i.topics_before), list(&i.topics))
        };
        println!(
            "  #{} {}: {} (was {}){topics}\n      {}",
            i.id, i.feed, i.status, i.before, i.url
        );
    }
    for (feed, r) in &report.feeds {
        if r.failed_pages() > 0 {
            println!(
                "  {feed}: {} of {} gave no text: {}",
                r.failed_pages(),
                plural(r.pages, "page", "pages"),
                r.reasons()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn list(topics: &[String]) -> String {
    if topics.is_empty() {
        "none".into()
    } else {
        topics.join(",")
    }
}
