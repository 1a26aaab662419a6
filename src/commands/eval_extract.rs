//! `veille eval-extract DIR [--min-f1 X]`: scores the extractor on a directory laid out like
//! the article-extraction benchmark (`html/<id>.html.gz` + `ground-truth.json`) and prints
//! F1, precision, recall, extraction time per page and the worst documents. With
//! `--predictions DIR` it scores another extractor's texts (`DIR/<id>.txt`) with the same metric.

use std::path::PathBuf;
use std::process::ExitCode;

use indicatif::ProgressBar;
use veille::eval::extraction::{DocResult, evaluate, score_predictions};
use veille::eval::quantile;
use veille::pipeline::extract::metric::{DocScore, summarize};

/// Score article extraction on a benchmark directory.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory with `ground-truth.json` and `html/<id>.html.gz`.
    pub dir: PathBuf,
    /// Exit with failure when F1 is below this.
    #[arg(long)]
    pub min_f1: Option<f64>,
    /// How many of the worst documents to list.
    #[arg(long, default_value_t = 10)]
    pub worst: usize,
    /// Score the texts in this directory (`<id>.txt`, written by another extractor) instead of
    /// running veille's extractor
    #[arg(long, value_name = "DIR")]
    pub predictions: Option<PathBuf>,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let results = match &args.predictions {
        Some(predictions) => score_predictions(&args.dir, predictions)?,
        None => {
            let bar = ProgressBar::new(0);
            let results = evaluate(&args.dir, |done, total| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            })?;
            bar.finish_and_clear();
            results
        }
    };
    let scores: Vec<DocScore> = results.iter().map(|r| r.score).collect();
    let times: Vec<f64> = results.iter().map(|r| r.millis).collect();
    let s = summarize(&scores);
    println!("documents  {}", results.len());
    println!("F1         {:.4}", s.f1);
    println!("precision  {:.4}", s.precision);
    println!("recall     {:.4}", s.recall);
    println!("F1 >= 0.9  {:.1}% of documents", s.share_f1_090 * 100.0);
    if let Some(predictions) = &args.predictions {
        println!("texts      {} (not timed)", predictions.display());
    } else {
        println!(
            "time/page  median {:.2} ms, p95 {:.2} ms (extraction only{})",
            quantile(&times, 0.5),
            quantile(&times, 0.95),
            if cfg!(debug_assertions) {
                ", DEBUG build"
            } else {
                ""
            }
        );
    }
    let mut worst: Vec<&DocResult> = results.iter().collect();
    worst.sort_by(|a, b| a.score.f1().total_cmp(&b.score.f1()));
    println!("worst {}:", args.worst.min(worst.len()));
    for r in worst.iter().take(args.worst) {
        println!(
            "  F1 {:.3}  P {:.3}  R {:.3}  {}  {}",
            r.score.f1(),
            r.score.precision(),
            r.score.recall(),
            r.id,
            r.url
        );
    }
    if let Some(min) = args.min_f1
        && s.f1 < min
    {
        eprintln!("F1 {:.4} is below --min-f1 {min}", s.f1);
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
