//! `veille items`: stored items, newest first, as a table or JSON lines.

use std::path::Path;
use std::process::ExitCode;

use anyhow::bail;
use chrono::{DateTime, NaiveDate, Utc};
use veille::store::ItemFilter;

use super::short_time;

#[derive(clap::Args)]
pub struct Args {
    /// One JSON object per line (url, title, feed, published, language, topics)
    #[arg(long)]
    json: bool,
    /// Only items seen in this feed
    #[arg(long, value_name = "NAME")]
    feed: Option<String>,
    /// Only items published since: a date (2026-11-01), a timestamp (RFC 3339) or an age (36h, 7d)
    #[arg(long, value_name = "WHEN", value_parser = parse_since)]
    since: Option<DateTime<Utc>>,
    /// Only items that matched this topic
    #[arg(long, value_name = "ID")]
    topic: Option<String>,
    /// At most this many items
    #[arg(long, value_name = "N", default_value_t = 50)]
    limit: usize,
}

fn parse_since(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    if let Ok(age) = humantime::parse_duration(s) {
        let age = veille::duration::AGE.check(age)?;
        let age = chrono::Duration::from_std(age).map_err(|e| e.to_string())?;
        return Utc::now()
            .checked_sub_signed(age)
            .ok_or_else(|| format!("the age {s:?} reaches before the calendar starts"));
    }
    Err(format!(
        "expected a date (2026-11-01), an RFC 3339 timestamp or an age (36h, 7d), got {s:?}"
    ))
}

pub fn run(config: Option<&Path>, args: &Args) -> anyhow::Result<ExitCode> {
    let (config, store) = super::open(config)?;
    if let Some(feed) = &args.feed
        && config.feed(feed).is_none()
        && !store.feeds()?.iter().any(|f| &f.name == feed)
    {
        bail!("no feed named {feed:?}; `veille feeds` lists them");
    }
    let items = store.items(&ItemFilter {
        feed: args.feed.clone(),
        since: args.since,
        topic: args.topic.clone(),
        limit: Some(args.limit),
    })?;
    for it in &items {
        if args.json {
            println!(
                "{}",
                serde_json::json!({
                    "id": it.id,
                    "url": it.url,
                    "title": it.title,
                    "feed": it.feed,
                    "published": it.published,
                    "fetched_at": it.fetched_at,
                    "language": it.language,
                    "topics": it.topics,
                })
            );
        } else {
            println!(
                "{}  {:<20} {:<3} {:<28} {}\n{:>18}{}",
                short_time(it.published.or(Some(it.fetched_at))),
                it.feed,
                it.language.as_deref().unwrap_or("-"),
                it.topics.join(","),
                it.title,
                "",
                it.url.as_deref().unwrap_or("")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
