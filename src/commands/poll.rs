//! `veille poll`: refresh due feeds once, with a progress bar on a terminal and a summary line,
//! then the failing feeds and the article pages that gave no text, each with its reason.

use std::path::Path;
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};
use veille::pipeline::Outcome;

use super::plural;

#[derive(clap::Args)]
pub struct Args {
    /// Poll every enabled feed, ignoring schedules
    #[arg(long)]
    all: bool,
}

pub async fn run(config: Option<&Path>, args: &Args) -> anyhow::Result<ExitCode> {
    let (_, pipeline) = super::pipeline(config)?;
    let bar = ProgressBar::hidden();
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} feeds {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    let mut failures = Vec::new();
    let mut articles = Vec::new();
    let mut retryable = false;
    let summary = pipeline
        .poll(args.all, |report, total| {
            bar.set_length(total as u64);
            bar.inc(1);
            bar.set_message(report.feed.clone());
            if let Outcome::Failed { error, .. } = &report.outcome {
                failures.push(format!("  {}: {error}", report.feed));
            }
            if let Some(a) = report.articles.as_ref().filter(|a| a.failed_pages() > 0) {
                retryable |= a.retryable();
                articles.push(format!(
                    "  {}: {} of {} gave no text: {}",
                    report.feed,
                    a.failed_pages(),
                    plural(a.pages, "article page", "article pages"),
                    a.reasons()
                ));
            }
        })
        .await?;
    bar.finish_and_clear();
    if summary.feeds == 0 {
        println!("poll: {}", nothing_due(&pipeline.store())?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("poll: {summary}");
    for line in failures {
        println!("{line}");
    }
    if !articles.is_empty() {
        println!("article pages without text (their items keep the feed's summary):");
        for line in articles {
            println!("{line}");
        }
        if retryable {
            println!("  `veille refetch` fetches them again once the cause is fixed");
        }
    }
    // Every feed failed: nothing was read, which a script running `poll` must notice.
    Ok(if summary.failed == summary.feeds {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// What to say when no feed was due: when the next one is, and how to poll now anyway.
fn nothing_due(store: &veille::store::Store) -> anyhow::Result<String> {
    Ok(match store.next_due_feed()? {
        None => "no enabled feed to poll (see `veille feeds`)".into(),
        Some((feed, Some(at))) => format!(
            "nothing due; the next feed, {feed}, is due at {} (`veille poll --all` polls every feed now)",
            super::zoned_time(at, chrono_tz::UTC)
        ),
        Some((feed, None)) => format!("nothing due, yet {feed} was never polled"),
    })
}
