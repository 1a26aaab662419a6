//! Service metrics in Prometheus text format: fetches by outcome, new items, matches by topic,
//! digests by outcome, fetch latency and its wait for the write lock, failing feeds, storage
//! errors.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::pipeline::{FeedReport, Outcome};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TopicLabel {
    topic: String,
}

/// The service's counters; cheap to update from any task.
pub struct Metrics {
    registry: Registry,
    fetches: Family<OutcomeLabel, Counter>,
    new_items: Counter,
    matches: Family<TopicLabel, Counter>,
    digests: Family<OutcomeLabel, Counter>,
    fetch_seconds: Histogram,
    lock_wait_seconds: Histogram,
    failing_feeds: Gauge,
    storage_errors: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("veille");
        let fetches = Family::<OutcomeLabel, Counter>::default();
        let new_items = Counter::default();
        let matches = Family::<TopicLabel, Counter>::default();
        let digests = Family::<OutcomeLabel, Counter>::default();
        let fetch_seconds = Histogram::new([0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0]);
        let lock_wait_seconds = Histogram::new([0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0]);
        let failing_feeds = Gauge::default();
        registry.register(
            "fetches",
            "Feed fetches by outcome (updated, not_modified, failed)",
            fetches.clone(),
        );
        registry.register(
            "new_items",
            "Items stored for the first time",
            new_items.clone(),
        );
        registry.register(
            "matches",
            "Topic matches on new and changed items, by topic",
            matches.clone(),
        );
        registry.register(
            "digests",
            "Digests by outcome (sent, failed)",
            digests.clone(),
        );
        registry.register(
            "fetch_duration_seconds",
            "Time to fetch and process one feed",
            fetch_seconds.clone(),
        );
        registry.register(
            "write_lock_wait_seconds",
            "Of one feed's refresh, the time its writes waited for the database's write lock",
            lock_wait_seconds.clone(),
        );
        registry.register(
            "failing_feeds",
            "Enabled feeds whose last fetches failed",
            failing_feeds.clone(),
        );
        let storage_errors = Counter::default();
        registry.register(
            "storage_errors",
            "Database reads and writes that failed",
            storage_errors.clone(),
        );
        Metrics {
            registry,
            storage_errors,
            fetches,
            new_items,
            matches,
            digests,
            fetch_seconds,
            lock_wait_seconds,
            failing_feeds,
        }
    }

    /// Counts one feed refresh.
    pub fn record_feed(&self, r: &FeedReport) {
        let outcome = match &r.outcome {
            Outcome::Updated { new, .. } => {
                self.new_items.inc_by(*new as u64);
                "updated"
            }
            Outcome::NotModified => "not_modified",
            Outcome::Failed { .. } => "failed",
        };
        self.fetches.get_or_create(&OutcomeLabel { outcome }).inc();
        for (topic, n) in &r.matches {
            self.record_matches(topic, *n as u64);
        }
        self.fetch_seconds.observe(r.elapsed.as_secs_f64());
        self.lock_wait_seconds.observe(r.lock_wait.as_secs_f64());
    }

    /// Counts matches of a topic among new items.
    pub fn record_matches(&self, topic: &str, n: u64) {
        self.matches
            .get_or_create(&TopicLabel {
                topic: topic.to_string(),
            })
            .inc_by(n);
    }

    /// Counts one digest attempt; `sent` false for a failed delivery.
    pub fn record_digest(&self, sent: bool) {
        let outcome = if sent { "sent" } else { "failed" };
        self.digests.get_or_create(&OutcomeLabel { outcome }).inc();
    }

    /// Brings the storage error counter up to `total` (errors since the start).
    pub fn set_storage_errors(&self, total: u64) {
        let seen = self.storage_errors.get();
        self.storage_errors.inc_by(total.saturating_sub(seen));
    }

    pub fn set_failing_feeds(&self, n: i64) {
        self.failing_feeds.set(n);
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn counts_appear_in_the_exposition() {
        let m = Metrics::new();
        m.record_feed(&FeedReport {
            feed: "a".into(),
            url: "http://x/".into(),
            outcome: Outcome::Updated {
                status: 200,
                items: 3,
                new: 2,
                updated: 0,
                articles_failed: 0,
                capped_from: None,
            },
            elapsed: Duration::from_millis(120),
            lock_wait: Duration::from_millis(60),
            matches: vec![("eu-us-cyber".into(), 2)],
            articles: None,
        });
        m.record_feed(&FeedReport {
            feed: "b".into(),
            url: "http://y/".into(),
            outcome: Outcome::Failed {
                status: Some(500),
                error: "HTTP status 500".into(),
            },
            elapsed: Duration::from_millis(5),
            lock_wait: Duration::ZERO,
            matches: Vec::new(),
            articles: None,
        });
        m.record_matches("eu-nato-cyber", 1);
        m.set_failing_feeds(1);
        let text = m.encode();
        assert!(
            text.contains("veille_fetches_total{outcome=\"updated\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("veille_fetches_total{outcome=\"failed\"} 1"),
            "{text}"
        );
        assert!(text.contains("veille_new_items_total 2"), "{text}");
        assert!(
            text.contains("veille_matches_total{topic=\"eu-nato-cyber\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("veille_matches_total{topic=\"eu-us-cyber\"} 2"),
            "{text}"
        );
        assert!(text.contains("veille_failing_feeds 1"), "{text}");
        assert!(
            text.contains("veille_fetch_duration_seconds_count 2"),
            "{text}"
        );
        assert!(
            text.contains("veille_write_lock_wait_seconds_sum 0.06"),
            "{text}"
        );
        assert!(
            text.contains("veille_write_lock_wait_seconds_bucket{le=\"0.05\"} 1"),
            "one refresh waited under 50 ms, the other 60: {text}"
        );
    }
}
