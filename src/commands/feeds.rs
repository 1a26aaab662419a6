//! `veille feeds`: the feeds with their health, as a table or JSON lines.

use std::path::Path;
use std::process::ExitCode;

use veille::service::schedule::FAILING_AFTER;

use super::short_time;

#[derive(clap::Args)]
pub struct Args {
    /// One JSON object per line instead of a table
    #[arg(long)]
    json: bool,
}

/// The last error, else what the last refresh noticed: a warning about the document, article
/// pages without text, guids that change between polls.
fn notes(f: &veille::model::FeedRow) -> String {
    if let Some(e) = &f.last_error {
        return e.clone();
    }
    let mut notes = Vec::new();
    if let Some(w) = &f.last_warning {
        notes.push(format!("warning: {w}"));
    }
    if f.article_failures > 0 {
        notes.push(format!(
            "{} article pages gave no text (last refresh)",
            f.article_failures
        ));
    }
    if f.reissued > 0 {
        notes.push(format!(
            "guids change between polls: {} items recognised by link or content (last refresh)",
            f.reissued
        ));
    }
    notes.join("; ")
}

pub fn run(config: Option<&Path>, args: &Args) -> anyhow::Result<ExitCode> {
    let (config, mut store) = super::open_for_writing(config)?;
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
        let state = f.state(FAILING_AFTER);
        println!(
            "{:<24} {:<9} {:>6} {:>6} {:<16} {:<16} {}",
            f.name,
            state,
            f.error_count,
            f.item_count,
            short_time(f.last_fetch_at),
            short_time(f.next_check_at),
            notes(f)
        );
    }
    Ok(ExitCode::SUCCESS)
}
