//! Re-runs the topic rules over every stored item (after a rule edit) and reports what changed:
//! per topic how many items gained it, lost it or kept it, and which items changed.

use std::collections::BTreeMap;

use chrono::Utc;
use serde::Serialize;

use super::classify::Classifier;
use crate::error::StoreError;
use crate::store::Store;

/// Items read from the store at a time.
const PAGE: usize = 200;

/// Per-topic counts of a reclassification.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TopicChange {
    pub added: usize,
    pub removed: usize,
    pub unchanged: usize,
}

/// One item whose topics changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangedItem {
    pub id: i64,
    pub title: String,
    pub url: Option<String>,
    pub before: Vec<String>,
    pub after: Vec<String>,
}

/// What a reclassification did (or, dry, would do).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReclassifyReport {
    pub items: usize,
    pub dry_run: bool,
    /// By topic id: every topic of the rules and every topic found stored.
    pub topics: BTreeMap<String, TopicChange>,
    pub changed: Vec<ChangedItem>,
}

/// Classifies every stored item again; unless `dry_run`, stores the new matches (scores and
/// evidence are refreshed for unchanged items too). `progress(done, total)` is called per page.
pub fn reclassify(
    store: &mut Store,
    classifier: &Classifier,
    dry_run: bool,
    mut progress: impl FnMut(usize, usize),
) -> Result<ReclassifyReport, StoreError> {
    let total = store.item_count()? as usize;
    let mut report = ReclassifyReport {
        dry_run,
        ..ReclassifyReport::default()
    };
    for id in classifier.topic_ids() {
        report.topics.entry(id.to_string()).or_default();
    }
    let mut after_id = 0;
    loop {
        let page = store.texts(after_id, PAGE)?;
        let Some(last) = page.last() else { break };
        after_id = last.id;
        for item in page {
            let language = item.language.as_deref().or(item.feed_language.as_deref());
            let matches = classifier.matches(&item.title, &item.body, language);
            let mut now: Vec<String> = matches.iter().map(|m| m.topic.clone()).collect();
            now.sort();
            for t in &now {
                let c = report.topics.entry(t.clone()).or_default();
                if item.topics.contains(t) {
                    c.unchanged += 1;
                } else {
                    c.added += 1;
                }
            }
            for t in item.topics.iter().filter(|t| !now.contains(t)) {
                report.topics.entry(t.clone()).or_default().removed += 1;
            }
            if now != item.topics {
                report.changed.push(ChangedItem {
                    id: item.id,
                    title: item.title.clone(),
                    url: item.url.clone(),
                    before: item.topics.clone(),
                    after: now,
                });
            }
            if !dry_run {
                store.set_classification(
                    item.id,
                    item.language.as_deref(),
                    &matches,
                    Utc::now(),
                )?;
            }
            report.items += 1;
        }
        progress(report.items, total.max(report.items));
    }
    Ok(report)
}
