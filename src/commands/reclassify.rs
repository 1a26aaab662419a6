//! `veille reclassify [--dry-run] [--json]`: re-runs the topic rules over every stored item
//! after a rule edit and reports what changed.

use std::path::Path;
use std::process::ExitCode;

use indicatif::ProgressBar;
use veille::pipeline::classify::Classifier;
use veille::pipeline::reclassify::reclassify;

/// Re-run the topic rules over the stored items and report what changed.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Report what would change without storing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(config: Option<&Path>, args: &Args) -> anyhow::Result<ExitCode> {
    let (config, mut store) = super::open(config)?;
    let classifier = Classifier::load(&config.classifier.topics_dir)?;
    let bar = ProgressBar::new(0);
    let report = reclassify(&mut store, &classifier, args.dry_run, |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })?;
    bar.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} items reclassified{}",
        report.items,
        if report.dry_run {
            " (dry run: nothing stored)"
        } else {
            ""
        }
    );
    println!("topic            added  removed  unchanged");
    for (topic, c) in &report.topics {
        println!(
            "{topic:<16} {:<6} {:<8} {}",
            c.added, c.removed, c.unchanged
        );
    }
    let list = |t: &[String]| {
        if t.is_empty() {
            "-".to_string()
        } else {
            t.join(",")
        }
    };
    for c in &report.changed {
        println!(
            "  #{} {} → {}  {}",
            c.id,
            list(&c.before),
            list(&c.after),
            c.title
        );
    }
    Ok(ExitCode::SUCCESS)
}
