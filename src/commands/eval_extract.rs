//! `veille eval-extract DIR [--min-f1 X]`: scores the extractor on a directory laid out like
//! the article-extraction benchmark (`html/<id>.html.gz` + `ground-truth.json`) and prints
//! F1, precision, recall, extraction time per page and the worst documents.

use crate::commands::extract::read_file;
use crate::pipeline::charset::decode_html;
use crate::pipeline::extract::metric::{DocScore, summarize};
use crate::pipeline::extract::{Extractor, Options};
use anyhow::Context as _;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

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
}

#[derive(serde::Deserialize)]
struct Truth {
    #[serde(default)]
    url: String,
    #[serde(rename = "articleBody")]
    article_body: String,
}

/// Per-document result.
pub struct DocResult {
    pub id: String,
    pub url: String,
    pub score: DocScore,
    pub millis: f64,
}

/// Extracts and scores every document of `dir`.
pub fn evaluate(dir: &std::path::Path) -> anyhow::Result<Vec<DocResult>> {
    let truth_path = dir.join("ground-truth.json");
    let raw = std::fs::read_to_string(&truth_path)
        .with_context(|| format!("cannot read {}", truth_path.display()))?;
    let truth: BTreeMap<String, Truth> = serde_json::from_str(&raw).with_context(|| {
        format!(
            "{} is not {{id: {{url, articleBody}}}}",
            truth_path.display()
        )
    })?;
    let extractor = Extractor::new(&Options::default())?;
    let mut results = Vec::with_capacity(truth.len());
    for (id, t) in truth {
        let path = dir.join("html").join(format!("{id}.html.gz"));
        let bytes = read_file(&path)?;
        let (html, _) = decode_html(&bytes, None);
        let url = url::Url::parse(&t.url).ok();
        let start = Instant::now();
        let article = extractor.extract(&html, url.as_ref());
        let millis = start.elapsed().as_secs_f64() * 1000.0;
        results.push(DocResult {
            score: DocScore::compare(&t.article_body, &article.text),
            id,
            url: t.url,
            millis,
        });
    }
    Ok(results)
}

/// The `q` quantile (0..=1) of `values` by nearest rank.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

pub async fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let results = evaluate(&args.dir)?;
    let scores: Vec<DocScore> = results.iter().map(|r| r.score).collect();
    let times: Vec<f64> = results.iter().map(|r| r.millis).collect();
    let s = summarize(&scores);
    println!("documents  {}", results.len());
    println!("F1         {:.4}", s.f1);
    println!("precision  {:.4}", s.precision);
    println!("recall     {:.4}", s.recall);
    println!("F1 >= 0.9  {:.1}% of documents", s.share_f1_090 * 100.0);
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

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn quantiles_by_nearest_rank() {
        let v = [5.0, 1.0, 3.0, 2.0, 4.0];
        assert_eq!(quantile(&v, 0.5), 3.0);
        assert_eq!(quantile(&v, 0.95), 5.0);
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&[], 0.5), 0.0);
    }
}
