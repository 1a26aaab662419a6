//! The classifier against the analysts' judgements: precision and known misses per topic, as
//! judged and with the current rules (`veille eval --judged`), and the judged items written out
//! as a labelled corpus in the layout `veille eval DIR` reads (`veille export-labels DIR`).
//!
//! A verdict in force (the latest per item and topic) labels the item for that topic:
//! `relevant` and `should match` say it is about the topic, `not relevant` that it is not.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::EvalError;
use crate::error::StoreError;
use crate::pipeline::classify::Classifier;
use crate::store::{ItemDetail, Judgement, Store, Verdict};

/// One topic's figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct JudgedTopic {
    pub topic: String,
    /// Verdicts in force, by kind.
    pub relevant: usize,
    pub not_relevant: usize,
    pub should_match: usize,
    /// relevant / (relevant + not relevant): the precision of the matches as they were judged.
    pub precision_judged: Option<f64>,
    /// With the current rules, over the judged items.
    pub true_positives: usize,
    pub false_positives: usize,
    pub false_negatives: usize,
    pub precision_now: Option<f64>,
    pub recall_now: Option<f64>,
    /// Items judged about the topic that the current rules miss.
    pub misses_now: Vec<i64>,
    /// Items judged not about the topic that the current rules still match.
    pub false_matches_now: Vec<i64>,
}

/// The whole report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct JudgedReport {
    pub judgements: usize,
    pub items: usize,
    /// Judged items no longer stored (skipped).
    pub missing_items: usize,
    pub topics: Vec<JudgedTopic>,
}

fn ratio(a: usize, b: usize) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// The verdicts in force, the judged items still stored (by id), and how many are gone.
type Judged = (Vec<Judgement>, BTreeMap<i64, ItemDetail>, usize);

/// The verdicts in force with each judged item (those still stored).
fn judged_items(store: &Store) -> Result<Judged, StoreError> {
    let judgements = store.current_judgements()?;
    let mut items = BTreeMap::new();
    let mut missing = BTreeSet::new();
    for j in &judgements {
        if items.contains_key(&j.item_id) || missing.contains(&j.item_id) {
            continue;
        }
        match store.item_detail(j.item_id)? {
            Some(it) => {
                items.insert(j.item_id, it);
            }
            None => {
                missing.insert(j.item_id);
            }
        }
    }
    Ok((judgements, items, missing.len()))
}

/// Scores the stored judgements, as judged and against `classifier` now.
pub fn evaluate(store: &Store, classifier: &Classifier) -> Result<JudgedReport, StoreError> {
    let (judgements, items, missing) = judged_items(store)?;
    let predicted: BTreeMap<i64, BTreeSet<String>> = items
        .iter()
        .map(|(id, it)| {
            let topics = classifier
                .classify_item(&it.title, it.body(), it.language.as_deref())
                .into_iter()
                .filter(|r| r.matched)
                .map(|r| r.id)
                .collect();
            (*id, topics)
        })
        .collect();
    let mut topics: BTreeMap<String, JudgedTopic> = classifier
        .topic_ids()
        .into_iter()
        .map(|t| {
            (
                t.to_string(),
                JudgedTopic {
                    topic: t.to_string(),
                    ..JudgedTopic::default()
                },
            )
        })
        .collect();
    let mut counted = 0;
    for j in &judgements {
        let Some(now) = predicted.get(&j.item_id) else {
            continue;
        };
        counted += 1;
        let t = topics
            .entry(j.topic.clone())
            .or_insert_with(|| JudgedTopic {
                topic: j.topic.clone(),
                ..JudgedTopic::default()
            });
        match j.verdict {
            Verdict::Relevant => t.relevant += 1,
            Verdict::NotRelevant => t.not_relevant += 1,
            Verdict::ShouldMatch => t.should_match += 1,
        }
        match (j.verdict.positive(), now.contains(&j.topic)) {
            (true, true) => t.true_positives += 1,
            (false, true) => {
                t.false_positives += 1;
                t.false_matches_now.push(j.item_id);
            }
            (true, false) => {
                t.false_negatives += 1;
                t.misses_now.push(j.item_id);
            }
            (false, false) => {}
        }
    }
    let topics = topics
        .into_values()
        .map(|mut t| {
            t.precision_judged = ratio(t.relevant, t.relevant + t.not_relevant);
            t.precision_now = ratio(t.true_positives, t.true_positives + t.false_positives);
            t.recall_now = ratio(t.true_positives, t.true_positives + t.false_negatives);
            t
        })
        .collect();
    Ok(JudgedReport {
        judgements: counted,
        items: items.len(),
        missing_items: missing,
        topics,
    })
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub items: usize,
    pub labels: PathBuf,
}

/// Writes the judged items as a labelled corpus: `DIR/labels.tsv` (`id  lang  labels`) and
/// `DIR/docs/<id>.txt` (title, then the text), plus `DIR/judgements.tsv` with every verdict in
/// force. An item's labels are the topics judged about it, and the topics it is stored as
/// matching that no verdict rejects. Refuses to overwrite an existing `labels.tsv` unless
/// `force`.
pub fn export(store: &Store, dir: &Path, force: bool) -> Result<Exported, EvalError> {
    let labels_path = dir.join("labels.tsv");
    if labels_path.exists() && !force {
        return Err(EvalError::Format {
            path: labels_path,
            message: "already exists; choose an empty directory or pass --force to overwrite"
                .into(),
        });
    }
    let (judgements, items, _) = judged_items(store).map_err(|e| EvalError::Format {
        path: dir.to_path_buf(),
        message: format!("reading the judgements: {e}"),
    })?;
    let write = |path: &Path, text: &str| {
        std::fs::write(path, text).map_err(|source| EvalError::Read {
            path: path.to_path_buf(),
            source,
        })
    };
    let docs = dir.join("docs");
    std::fs::create_dir_all(&docs).map_err(|source| EvalError::Read {
        path: docs.clone(),
        source,
    })?;
    let mut labels = String::from(
        "id\tlang\tlabels\n# Exported by `veille export-labels` from the analysts' judgements: the topics\n\
         # judged about each item, and those it matched that no judgement rejects.\n",
    );
    let mut raw = String::from("item\ttopic\tverdict\tmatched_then\tjudged_at\turl\n");
    for (id, it) in &items {
        let mine: Vec<&Judgement> = judgements.iter().filter(|j| j.item_id == *id).collect();
        let mut set: BTreeSet<String> = it
            .matches
            .iter()
            .map(|m| m.topic.clone())
            .filter(|t| !mine.iter().any(|j| &j.topic == t && !j.verdict.positive()))
            .collect();
        set.extend(
            mine.iter()
                .filter(|j| j.verdict.positive())
                .map(|j| j.topic.clone()),
        );
        let doc_id = format!("j{id}");
        let title = it.title.split_whitespace().collect::<Vec<_>>().join(" ");
        write(
            &docs.join(format!("{doc_id}.txt")),
            &format!("{title}\n{}\n", it.body()),
        )?;
        let list = if set.is_empty() {
            "-".to_string()
        } else {
            set.into_iter().collect::<Vec<_>>().join(",")
        };
        labels.push_str(&format!(
            "{doc_id}\t{}\t{list}\n",
            it.language.as_deref().unwrap_or("-")
        ));
        for j in mine {
            raw.push_str(&format!(
                "{id}\t{}\t{}\t{}\t{}\t{}\n",
                j.topic,
                j.verdict.as_str(),
                j.matched,
                j.judged_at.to_rfc3339(),
                it.url.as_deref().unwrap_or("-")
            ));
        }
    }
    write(&dir.join("judgements.tsv"), &raw)?;
    write(&labels_path, &labels)?;
    Ok(Exported {
        items: items.len(),
        labels: labels_path,
    })
}
