//! `veille eval DIR [--json] [--show-errors] [--min-f1 X]`: scores the topic classifier on a
//! labelled corpus (see `veille::eval::corpus` for the layouts); `veille eval --judged` scores it
//! on the analysts' judgements stored in the database.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use veille::config::Config;
use veille::eval::corpus::{DocOutcome, evaluate, load};
use veille::pipeline::classify::Classifier;

/// Score the topic classifier on a labelled corpus.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory with `labels.tsv` and the texts (`docs/<id>.txt`, or files beside it).
    #[arg(required_unless_present = "judged")]
    pub dir: Option<PathBuf>,
    /// Score on the judgements made in the web view instead (precision and known misses per
    /// topic, as judged and with the current rules).
    #[arg(long, conflicts_with_all = ["dir", "show_errors", "min_f1"])]
    pub judged: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// List every false positive and negative with its evidence.
    #[arg(long)]
    pub show_errors: bool,
    /// Exit with failure when a topic's F1 is below this.
    #[arg(long)]
    pub min_f1: Option<f64>,
    /// Exit with failure when a topic's precision is below this.
    #[arg(long)]
    pub min_precision: Option<f64>,
}

pub fn run(config: Option<&Path>, args: &Args) -> anyhow::Result<ExitCode> {
    let config = Config::load(config)?;
    let classifier = Classifier::load(&config.classifier.topics_dir)?;
    let Some(dir) = &args.dir else {
        return judged(&config, &classifier, args.json);
    };
    let docs = load(dir)?;
    let report = evaluate(&classifier, &docs);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "{} documents, rules from {}",
            report.documents,
            classifier
                .source()
                .map_or("(embedded)".into(), |p| p.display().to_string())
        );
        println!("topic            precision  recall  F1      TP  FP  FN");
        for t in &report.topics {
            println!(
                "{:<16} {:<10.3} {:<7.3} {:<7.3} {:<3} {:<3} {}",
                t.topic,
                t.precision,
                t.recall,
                t.f1,
                t.true_positives,
                t.false_positives,
                t.false_negatives
            );
        }
        let bad: Vec<String> = report
            .languages
            .iter()
            .filter(|(_, l)| l.errors > 0)
            .map(|(lang, l)| format!("{lang} {}/{}", l.errors, l.documents))
            .collect();
        println!(
            "errors by language: {}",
            if bad.is_empty() {
                "none".into()
            } else {
                bad.join(", ")
            }
        );
        let labelled: usize = report
            .languages
            .iter()
            .filter(|(l, _)| *l != "-")
            .map(|(_, s)| s.documents)
            .sum();
        if labelled > 0 {
            let misses = &report.language_misses;
            println!(
                "language from the text alone: {}/{labelled} correct{}{}",
                labelled - misses.len(),
                if misses.is_empty() { "" } else { "; missed: " },
                misses.join(", ")
            );
        }
        for e in &report.errors {
            print_error(e, args.show_errors);
        }
    }
    let mut below = false;
    if let Some(min) = args.min_f1
        && report.min_f1() < min
    {
        eprintln!(
            "lowest topic F1 {:.3} is below --min-f1 {min}",
            report.min_f1()
        );
        below = true;
    }
    let lowest_precision = report
        .topics
        .iter()
        .map(|t| t.precision)
        .fold(1.0, f64::min);
    if let Some(min) = args.min_precision
        && lowest_precision < min
    {
        eprintln!("lowest topic precision {lowest_precision:.3} is below --min-precision {min}");
        below = true;
    }
    if below {
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn judged(config: &Config, classifier: &Classifier, json: bool) -> anyhow::Result<ExitCode> {
    let store = veille::store::Store::open(&config.storage.database)
        .with_context(|| super::database_named(config))?;
    let report = veille::eval::judged::evaluate(&store, classifier)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    let pct = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{x:.3}"));
    println!(
        "{} judgements on {} items{}, rules from {}",
        report.judgements,
        report.items,
        if report.missing_items > 0 {
            format!(" ({} judged items no longer stored)", report.missing_items)
        } else {
            String::new()
        },
        classifier
            .source()
            .map_or("(embedded)".into(), |p| p.display().to_string())
    );
    println!(
        "topic            relevant  not-relevant  should-match  precision-judged  precision-now  recall-now  misses-now"
    );
    for t in &report.topics {
        println!(
            "{:<16} {:<9} {:<13} {:<13} {:<17} {:<14} {:<11} {}",
            t.topic,
            t.relevant,
            t.not_relevant,
            t.should_match,
            pct(t.precision_judged),
            pct(t.precision_now),
            pct(t.recall_now),
            t.false_negatives
        );
    }
    for t in &report.topics {
        let ids = |v: &[i64]| {
            v.iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !t.misses_now.is_empty() {
            println!("{}: known misses (items): {}", t.topic, ids(&t.misses_now));
        }
        if !t.false_matches_now.is_empty() {
            println!(
                "{}: judged not relevant, still matched (items): {}",
                t.topic,
                ids(&t.false_matches_now)
            );
        }
    }
    if report.judgements == 0 {
        println!(
            "no judgements yet: judge matches on the item pages of the web view (`veille serve`)"
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn print_error(e: &DocOutcome, evidence: bool) {
    let list = |s: &std::collections::BTreeSet<String>| {
        if s.is_empty() {
            "-".to_string()
        } else {
            s.iter().cloned().collect::<Vec<_>>().join(",")
        }
    };
    println!(
        "MISS {} [{}] expected {} got {}",
        e.id,
        e.language.as_deref().unwrap_or("-"),
        list(&e.expected),
        list(&e.predicted)
    );
    if !evidence {
        return;
    }
    for r in &e.results {
        let wrong = e.expected.contains(&r.id) != r.matched;
        if !wrong {
            continue;
        }
        let kind = if r.matched {
            "false positive"
        } else {
            "false negative"
        };
        println!("  {} {kind}, score {:.3}", r.id, r.score);
        super::classify::print_reasons(r);
        super::classify::print_evidence(r);
    }
}
