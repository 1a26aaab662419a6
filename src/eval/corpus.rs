//! Scores the topic classifier on a labelled corpus: per topic precision, recall and F1, errors
//! per language, and every false positive or negative with its evidence.
//!
//! Two layouts are read: `DIR/labels.tsv` with `id  lang  labels` and texts in
//! `DIR/docs/<id>.txt` (the dev corpus), or `labels.tsv` with `file  language  labels  note` and
//! the files beside it (the shared seeds). Labels are comma-separated topic ids, or `-`. The first
//! line of each text is its headline.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::EvalError;
use crate::pipeline::classify::{Classifier, TopicResult};

/// One labelled text.
#[derive(Debug, Clone)]
pub struct LabelledDoc {
    pub id: String,
    pub language: Option<String>,
    pub labels: BTreeSet<String>,
    pub path: PathBuf,
    pub text: String,
}

/// Reads `DIR/labels.tsv` and the texts it names.
pub fn load(dir: &Path) -> Result<Vec<LabelledDoc>, EvalError> {
    let labels_path = dir.join("labels.tsv");
    let tsv = std::fs::read_to_string(&labels_path).map_err(|source| EvalError::Read {
        path: labels_path.clone(),
        source,
    })?;
    let mut docs = Vec::new();
    for (n, line) in tsv.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').map(str::trim).collect();
        if n == 0 && matches!(cols[0], "id" | "file") {
            continue;
        }
        if cols.len() < 3 {
            return Err(EvalError::Format {
                path: labels_path.clone(),
                message: format!(
                    "line {}: expected 3 tab-separated columns (id, language, labels), found {}",
                    n + 1,
                    cols.len()
                ),
            });
        }
        let id = cols[0].to_string();
        let path = [
            dir.join("docs").join(format!("{id}.txt")),
            dir.join("docs").join(&id),
            dir.join(&id),
            dir.join(format!("{id}.txt")),
        ]
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| EvalError::Format {
            path: labels_path.clone(),
            message: format!(
                "line {}: no text for `{id}` (looked for docs/{id}.txt and {id} beside labels.tsv)",
                n + 1
            ),
        })?;
        let bytes = std::fs::read(&path).map_err(|source| EvalError::Read {
            path: path.clone(),
            source,
        })?;
        let labels = cols[2]
            .split(',')
            .map(str::trim)
            .filter(|l| !l.is_empty() && *l != "-")
            .map(str::to_string)
            .collect();
        docs.push(LabelledDoc {
            id: id.trim_end_matches(".txt").to_string(),
            language: Some(cols[1].to_string()).filter(|l| !l.is_empty() && l != "-"),
            labels,
            path,
            text: String::from_utf8_lossy(&bytes).into_owned(),
        });
    }
    Ok(docs)
}

/// What the classifier said about one document.
#[derive(Debug, Clone, Serialize)]
pub struct DocOutcome {
    pub id: String,
    pub language: Option<String>,
    /// The language detected from the text alone (no hints), when the corpus labels one.
    pub detected_language: Option<String>,
    pub expected: BTreeSet<String>,
    pub predicted: BTreeSet<String>,
    /// Every topic's result, matched or not (for the evidence of misses).
    pub results: Vec<TopicResult>,
}

impl DocOutcome {
    pub fn correct(&self) -> bool {
        self.expected == self.predicted
    }
}

/// Counts and rates of one topic.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TopicScore {
    pub topic: String,
    pub true_positives: usize,
    pub false_positives: usize,
    pub false_negatives: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// Documents and errors of one language.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LanguageScore {
    pub documents: usize,
    pub errors: usize,
    /// Documents whose language, detected from the text alone, differs from the label.
    pub detection_errors: usize,
}

/// The whole evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub documents: usize,
    pub topics: Vec<TopicScore>,
    pub languages: BTreeMap<String, LanguageScore>,
    /// Documents whose language, detected from the text alone, differs from the label.
    pub language_misses: Vec<String>,
    /// Documents whose predicted topics differ from the labels.
    pub errors: Vec<DocOutcome>,
}

impl Report {
    /// The lowest F1 over topics (1 when there are none).
    pub fn min_f1(&self) -> f64 {
        self.topics.iter().map(|t| t.f1).fold(1.0, f64::min)
    }
}

/// Classifies every document and scores the result against the labels.
pub fn evaluate(classifier: &Classifier, docs: &[LabelledDoc]) -> Report {
    let outcomes: Vec<DocOutcome> = docs
        .iter()
        .map(|d| {
            let results = classifier.classify(&d.text, d.language.as_deref());
            let (title, body) = d.text.split_once('\n').unwrap_or((&d.text, ""));
            let detected = crate::pipeline::language::detect(title, body, &Default::default());
            DocOutcome {
                id: d.id.clone(),
                language: d.language.clone(),
                detected_language: detected.map(|l| l.code.to_string()),
                expected: d.labels.clone(),
                predicted: results
                    .iter()
                    .filter(|r| r.matched)
                    .map(|r| r.id.clone())
                    .collect(),
                results,
            }
        })
        .collect();
    let topics = classifier
        .topic_ids()
        .iter()
        .map(|&topic| {
            let mut s = TopicScore {
                topic: topic.to_string(),
                ..TopicScore::default()
            };
            for o in &outcomes {
                match (o.expected.contains(topic), o.predicted.contains(topic)) {
                    (true, true) => s.true_positives += 1,
                    (false, true) => s.false_positives += 1,
                    (true, false) => s.false_negatives += 1,
                    (false, false) => {}
                }
            }
            let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
            s.precision = ratio(s.true_positives, s.true_positives + s.false_positives);
            s.recall = ratio(s.true_positives, s.true_positives + s.false_negatives);
            s.f1 = if s.precision + s.recall == 0.0 {
                0.0
            } else {
                2.0 * s.precision * s.recall / (s.precision + s.recall)
            };
            s
        })
        .collect();
    let mut languages: BTreeMap<String, LanguageScore> = BTreeMap::new();
    for o in &outcomes {
        let l = languages
            .entry(o.language.clone().unwrap_or_else(|| "-".into()))
            .or_default();
        l.documents += 1;
        if !o.correct() {
            l.errors += 1;
        }
        if o.language.is_some() && o.detected_language != o.language {
            l.detection_errors += 1;
        }
    }
    Report {
        documents: outcomes.len(),
        topics,
        languages,
        language_misses: outcomes
            .iter()
            .filter(|o| o.language.is_some() && o.detected_language != o.language)
            .map(|o| {
                let got = o.detected_language.as_deref().unwrap_or("-");
                format!(
                    "{} ({} read as {got})",
                    o.id,
                    o.language.as_deref().unwrap_or("-")
                )
            })
            .collect(),
        errors: outcomes.into_iter().filter(|o| !o.correct()).collect(),
    }
}
