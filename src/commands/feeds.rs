//! `veille feeds`: the feeds with their health, as a table or JSON lines.

use std::path::Path;
use std::process::ExitCode;

use veille::pipeline::schedule::FAILING_AFTER;

use super::short_time;

#[derive(clap::Args)]
pub struct Args {
    /// One JSON object per line instead of a table
    #[arg(long)]
    json: bool,
}

pub fn run(config: Option<&Path>, args: &Args) -> anyhow::Result<ExitCode> {
    let (config, mut store) = super::open(config)?;
    store.sync_feeds(&config.feeds, chrono::Utc::now())?;
    let feeds = store.feeds()?;
    if args.json {
        for f in &feeds {
            println!("{}", serde_json::to_string(f)?);
        }
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<24} {:<9} {:>6} {:>6} {:<16} {:<16} LAST ERROR OR WARNING",
        "FEED", "STATE", "ERRORS", "ITEMS", "LAST FETCH", "NEXT CHECK"
    );
    for f in &feeds {
        let state = if !f.enabled {
            "disabled"
        } else if f.last_fetch_at.is_none() {
            "new"
        } else if f.error_count >= FAILING_AFTER {
            "failing"
        } else if f.error_count > 0 {
            "erroring"
        } else {
            "ok"
        };
        println!(
            "{:<24} {:<9} {:>6} {:>6} {:<16} {:<16} {}",
            f.name,
            state,
            f.error_count,
            f.item_count,
            short_time(f.last_fetch_at),
            short_time(f.next_check_at),
            match (&f.last_error, &f.last_warning, f.article_failures) {
                (Some(e), _, _) => e.clone(),
                (None, Some(w), _) => format!("warning: {w}"),
                (None, None, 0) => String::new(),
                (None, None, n) => format!("{n} article pages gave no text (last refresh)"),
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}
