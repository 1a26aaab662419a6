//! `veille poll`: refresh due feeds once, with a progress bar on a terminal and a summary line.

use std::path::Path;
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};
use veille::pipeline::Outcome;

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
    let summary = pipeline
        .poll(args.all, |report, total| {
            bar.set_length(total as u64);
            bar.inc(1);
            bar.set_message(report.feed.clone());
            if let Outcome::Failed { error, .. } = &report.outcome {
                failures.push(format!("  {}: {error}", report.feed));
            }
        })
        .await?;
    bar.finish_and_clear();
    println!("poll: {summary}");
    for line in failures {
        println!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}
