//! `veille feeds`: the feeds with their health, as a table or JSON lines. Reads only: feeds
//! configured since the last poll show as `new`, and no database is created.

use std::path::Path;
use std::process::ExitCode;

use veille::config::FeedConfig;
use veille::model::FeedRow;
use veille::pipeline::schedule::FAILING_AFTER;

use super::short_time;

#[derive(clap::Args)]
pub struct Args {
    /// One JSON object per line instead of a table
    #[arg(long)]
    json: bool,
}

pub fn run(config: Option<&Path>, args: &Args) -> anyhow::Result<ExitCode> {
    let (config, store) = super::open_existing(config)?;
    let stored = match &store {
        Some(s) => s.feeds()?,
        None => Vec::new(),
    };
    let feeds = as_configured(stored, &config.feeds);
    if args.json {
        for f in &feeds {
            let mut v = serde_json::to_value(f)?;
            v["state"] = f.state(FAILING_AFTER).into();
            println!("{v}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    if store.is_none() {
        println!(
            "no database yet at {} (`veille poll` creates it); the feeds as configured:",
            super::absolute(&config.storage.database).display()
        );
    }
    println!(
        "{:<24} {:<9} {:>6} {:>6} {:<16} {:<16} LAST ERROR OR WARNING",
        "FEED", "STATE", "ERRORS", "ITEMS", "LAST FETCH (UTC)", "NEXT CHECK (UTC)"
    );
    for f in &feeds {
        println!(
            "{:<24} {:<9} {:>6} {:>6} {:<16} {:<16} {}",
            f.name,
            f.state(FAILING_AFTER),
            f.error_count,
            f.item_count,
            short_time(f.last_fetch_at),
            short_time(f.next_check_at),
            f.notes().join("; ")
        );
    }
    let retry: Vec<&str> = feeds
        .iter()
        .filter(|f| f.article_trouble().is_some_and(|r| r.retryable()))
        .map(|f| f.name.as_str())
        .collect();
    if !retry.is_empty() {
        println!(
            "Once the cause is fixed, `veille refetch --feed NAME` fetches those article pages again ({}).",
            retry.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The stored feeds as the configuration has them now, without writing anything: configured
/// feeds not polled yet are added as new, stored feeds no longer configured show as disabled.
fn as_configured(stored: Vec<FeedRow>, configured: &[FeedConfig]) -> Vec<FeedRow> {
    let mut out: Vec<FeedRow> = stored
        .into_iter()
        .map(|mut f| {
            match configured.iter().find(|c| c.name == f.name) {
                Some(c) => {
                    f.enabled = c.enabled;
                    f.url = c.url.to_string();
                }
                None => f.enabled = false,
            }
            f
        })
        .collect();
    for c in configured {
        if !out.iter().any(|f| f.name == c.name) {
            out.push(FeedRow {
                id: 0,
                name: c.name.clone(),
                url: c.url.to_string(),
                title: None,
                enabled: c.enabled,
                last_status: None,
                error_count: 0,
                last_error: None,
                last_fetch_at: None,
                last_success_at: None,
                next_check_at: None,
                item_count: 0,
                article_failures: 0,
                reissued: 0,
                last_warning: None,
                article_report: None,
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}
