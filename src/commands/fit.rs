//! `veille fit DIR... [--folds K] [--write]`: fits each topic's `[model]` weights on labelled
//! corpora, reports k-fold cross-validated precision, recall and F1 (the figures that predict
//! unseen text), and with `--write` puts the weights into the rule files.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use veille::config::Config;
use veille::eval::corpus::{LabelledDoc, load};
use veille::eval::fit::{
    Counts, Example, FitOptions, cross_validate, fit, fold_of, model_table, replace_model_table,
};
use veille::pipeline::classify::Classifier;
use veille::pipeline::classify::features::FEATURES;

/// Fit the topic models on labelled corpora and report cross-validated figures.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Labelled corpora (`labels.tsv` + texts, as for `veille eval`).
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Folds of the cross-validation.
    #[arg(long, default_value_t = 10)]
    pub folds: usize,
    /// L2 penalty on the weights (larger: smaller, smoother weights).
    #[arg(long, default_value_t = 1.0)]
    pub l2: f64,
    /// Weight of a negative example against a positive one (above 1 favours precision).
    #[arg(long, default_value_t = 1.0)]
    pub negative_weight: f64,
    /// One model for every topic, fitted on all of them together.
    #[arg(long)]
    pub joint: bool,
    /// Write the fitted `[model]` tables into the rule files of the configured topics directory.
    #[arg(long)]
    pub write: bool,
    /// Also write every document's signals per topic to this file (tab-separated), to study
    /// new signals outside veille.
    #[arg(long, value_name = "FILE")]
    pub signals: Option<PathBuf>,
}

pub fn run(config: Option<&Path>, args: &Args) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.folds >= 2,
        "--folds {}: cross-validation needs at least 2 folds",
        args.folds
    );
    let config = Config::load(config)?;
    let classifier = Classifier::load(&config.classifier.topics_dir)?;
    let mut docs: Vec<(String, LabelledDoc)> = Vec::new();
    for dir in &args.dirs {
        let corpus = dir.display().to_string();
        docs.extend(load(dir)?.into_iter().map(|d| (corpus.clone(), d)));
    }
    let options = FitOptions {
        l2: args.l2,
        negative_weight: args.negative_weight,
    };
    let topics = classifier.topic_ids();
    // examples[t][i]: document i's signals for topic t.
    let mut examples: Vec<Vec<Example>> = vec![Vec::new(); topics.len()];
    for (_, d) in &docs {
        for (t, r) in classifier
            .classify(&d.text, d.language.as_deref())
            .into_iter()
            .enumerate()
        {
            examples[t].push(Example {
                x: r.features.values,
                y: d.labels.contains(&r.id),
            });
        }
    }
    if let Some(path) = &args.signals {
        let mut out = format!("corpus\tid\ttopic\tlabel\t{}\n", FEATURES.join("\t"));
        for (t, topic) in topics.iter().enumerate() {
            for ((corpus, d), e) in docs.iter().zip(&examples[t]) {
                let values: Vec<String> = e.x.iter().map(|v| format!("{v:.4}")).collect();
                out.push_str(&format!(
                    "{corpus}\t{}\t{topic}\t{}\t{}\n",
                    d.id,
                    u8::from(e.y),
                    values.join("\t")
                ));
            }
        }
        std::fs::write(path, out).with_context(|| format!("writing {}", path.display()))?;
    }
    let folds: Vec<usize> = docs
        .iter()
        .map(|(_, d)| fold_of(&d.id, args.folds))
        .collect();
    println!(
        "{} documents from {} corpora, {}-fold cross-validation, l2 {}, negative weight {}{}",
        docs.len(),
        args.dirs.len(),
        args.folds,
        args.l2,
        args.negative_weight,
        if args.joint { ", one joint model" } else { "" }
    );
    // Cross-validation: per topic, or one model over every topic's examples.
    let mut held_out: Vec<Vec<bool>> = Vec::new();
    if args.joint {
        let all: Vec<Example> = examples.concat();
        let all_folds: Vec<usize> = folds.repeat(topics.len());
        let (_, predicted) = cross_validate(&all, &all_folds, args.folds, 0.5, &options);
        held_out = predicted.chunks(docs.len()).map(<[bool]>::to_vec).collect();
    } else {
        for ex in &examples {
            held_out.push(cross_validate(ex, &folds, args.folds, 0.5, &options).1);
        }
    }
    println!("cross-validated (each document predicted by weights fitted without it):");
    println!("topic            precision  recall  F1      TP  FP  FN");
    let mut f1s = Vec::new();
    for (t, topic) in topics.iter().enumerate() {
        let mut c = Counts::default();
        for (e, p) in examples[t].iter().zip(&held_out[t]) {
            c.add(e.y, *p);
        }
        f1s.push(c.f1());
        println!(
            "{topic:<16} {:<10.3} {:<7.3} {:<7.3} {:<3} {:<3} {}",
            c.precision(),
            c.recall(),
            c.f1(),
            c.true_positives,
            c.false_positives,
            c.false_negatives
        );
    }
    println!(
        "macro-F1 {:.3}",
        f1s.iter().sum::<f64>() / f1s.len().max(1) as f64
    );
    // Held-out errors per corpus, then each error.
    for dir in &args.dirs {
        let corpus = dir.display().to_string();
        let errors: Vec<String> = docs
            .iter()
            .enumerate()
            .filter(|(_, (c, _))| *c == corpus)
            .flat_map(|(i, (_, d))| {
                let (examples, held_out) = (&examples, &held_out);
                topics.iter().enumerate().filter_map(move |(t, topic)| {
                    let e = &examples[t][i];
                    (e.y != held_out[t][i]).then(|| {
                        format!(
                            "{} {} {topic}",
                            d.id,
                            if e.y {
                                "false negative"
                            } else {
                                "false positive"
                            }
                        )
                    })
                })
            })
            .collect();
        let n = docs.iter().filter(|(c, _)| *c == corpus).count();
        println!("{corpus}: {n} documents, {} held-out errors", errors.len());
        for e in errors {
            println!("  {e}");
        }
    }

    // The weights from all the data.
    let models: Vec<_> = if args.joint {
        let m = fit(&examples.concat(), &options);
        vec![m; topics.len()]
    } else {
        examples.iter().map(|ex| fit(ex, &options)).collect()
    };
    println!("fitted weights (on all {} documents):", docs.len());
    print!("{:<14}", "signal");
    for topic in &topics {
        print!(" {topic:>14}");
    }
    println!();
    print!("{:<14}", "bias");
    for m in &models {
        print!(" {:>14.3}", m.bias);
    }
    println!();
    for (i, name) in FEATURES.iter().enumerate() {
        print!("{name:<14}");
        for m in &models {
            print!(" {:>14.3}", m.weights[i]);
        }
        println!();
    }
    if args.write {
        classifier.source().with_context(|| {
            "--write needs a topics directory on disk; the embedded rules are in use \
             ([classifier] topics does not exist)"
        })?;
        let corpora: Vec<String> = args
            .dirs
            .iter()
            .map(|d| {
                d.file_name()
                    .map_or(d.display().to_string(), |n| n.to_string_lossy().into())
            })
            .collect();
        for (t, topic) in classifier.topics().iter().enumerate() {
            let comment = format!(
                "Fitted by `veille fit` on {} labelled documents ({}); l2 {}, negative weight {}{}.\n\
                 {}-fold cross-validated F1 of this topic: {:.3}.",
                docs.len(),
                corpora.join(", "),
                args.l2,
                args.negative_weight,
                if args.joint {
                    ", one model for all topics"
                } else {
                    ""
                },
                args.folds,
                f1s[t]
            );
            let text = std::fs::read_to_string(&topic.path)
                .with_context(|| format!("reading {}", topic.path.display()))?;
            let new = replace_model_table(&text, &model_table(&models[t], &comment));
            std::fs::write(&topic.path, new)
                .with_context(|| format!("writing {}", topic.path.display()))?;
            println!("wrote [model] to {}", topic.path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
