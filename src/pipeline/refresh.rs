//! The orchestrator: `refresh_feed` reads top to bottom — fetch, parse, triage against the
//! store, enrich what is new, store, record the feed's health. `poll` runs it over due feeds.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::StreamExt;

use super::fetch::{Fetcher, Validators};
use super::parse::parse_feed;
use crate::config::{Config, FeedConfig};
use crate::error::{FetchError, StoreError};
use crate::model::{ParsedFeed, ParsedItem};
use crate::service::schedule::{Timing, next_check};
use crate::store::{DueFeed, FetchRecord, NewItem, Store};

/// Everything a refresh needs, shared by all feeds of a poll.
pub struct Pipeline {
    store: Mutex<Store>,
    fetcher: Fetcher,
    feeds: RwLock<HashMap<String, FeedConfig>>,
    concurrency: usize,
}

/// How one feed's refresh ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// New content was fetched and stored.
    Updated {
        status: u16,
        items: usize,
        new: usize,
        updated: usize,
    },
    /// The server said 304.
    NotModified,
    /// Fetch, parse or storage failed; the message says why.
    Failed { status: Option<u16>, error: String },
}

/// One feed's refresh, for progress output and logs.
#[derive(Debug, Clone)]
pub struct FeedReport {
    pub feed: String,
    pub url: String,
    pub outcome: Outcome,
    pub elapsed: Duration,
}

/// Totals of one poll.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollSummary {
    pub feeds: usize,
    pub ok: usize,
    pub not_modified: usize,
    pub failed: usize,
    pub new_items: usize,
    pub updated_items: usize,
}

impl PollSummary {
    fn add(&mut self, r: &FeedReport) {
        self.feeds += 1;
        match &r.outcome {
            Outcome::Updated { new, updated, .. } => {
                self.ok += 1;
                self.new_items += new;
                self.updated_items += updated;
            }
            Outcome::NotModified => {
                self.ok += 1;
                self.not_modified += 1;
            }
            Outcome::Failed { .. } => self.failed += 1,
        }
    }
}

impl std::fmt::Display for PollSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} feeds: {} ok ({} not modified), {} failed; {} new items, {} updated",
            self.feeds, self.ok, self.not_modified, self.failed, self.new_items, self.updated_items
        )
    }
}

impl Pipeline {
    /// Opens the store, syncs its feed list with the configuration and builds the HTTP client.
    pub fn new(config: &Config, store: Store) -> Result<Pipeline, PipelineError> {
        let mut store = store;
        store.sync_feeds(&config.feeds, Utc::now())?;
        Ok(Pipeline {
            store: Mutex::new(store),
            fetcher: Fetcher::new(&config.fetch)?,
            feeds: RwLock::new(feed_map(config)),
            concurrency: config.fetch.concurrency,
        })
    }

    /// Takes a new configuration's feed list (added, removed, changed feeds) without a restart.
    /// Fetch settings (timeouts, limits) keep their start-up values.
    pub fn reload(&self, config: &Config) -> Result<(), StoreError> {
        self.store().sync_feeds(&config.feeds, Utc::now())?;
        *self.feeds.write().unwrap_or_else(|p| p.into_inner()) = feed_map(config);
        Ok(())
    }

    /// The store, for short synchronous work (never held across an await).
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Refreshes every due feed (every enabled feed with `all`), `concurrency` at a time,
    /// calling `on_feed` as each one finishes.
    pub async fn poll(
        &self,
        all: bool,
        mut on_feed: impl FnMut(&FeedReport, usize),
    ) -> Result<PollSummary, PipelineError> {
        let due = self.store().due_feeds(Utc::now(), all)?;
        let total = due.len();
        let mut summary = PollSummary::default();
        let mut done = futures_util::stream::iter(due)
            .map(|feed| async move { self.refresh_feed(&feed).await })
            .buffer_unordered(self.concurrency);
        while let Some(report) = done.next().await {
            summary.add(&report);
            on_feed(&report, total);
        }
        Ok(summary)
    }

    /// Fetch → parse → triage → enrich → store → record health, for one feed.
    pub async fn refresh_feed(&self, feed: &DueFeed) -> FeedReport {
        let start = Instant::now();
        let config = self
            .feeds
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&feed.name)
            .cloned();
        let config = config.as_ref();
        let every = config.map_or(crate::config::DEFAULT_EVERY, |c| c.every);
        let validators = Validators {
            etag: feed.etag.clone(),
            last_modified: feed.last_modified.clone(),
        };

        let fetched = self.fetcher.get(&feed.url, &validators).await;
        let now = Utc::now();
        let outcome = match fetched {
            Err(failure) => self.record_failure(
                feed,
                every,
                now,
                failure.error.status(),
                &failure.error.to_string(),
                Timing {
                    retry_after: failure.hints.retry_after,
                    ..Timing::default()
                },
            ),
            Ok(f) => {
                let timing = Timing {
                    ttl: None,
                    max_age: f.hints.max_age,
                    retry_after: f.hints.retry_after,
                };
                if f.not_modified() {
                    self.record_success(feed, every, now, 304, &f.validators, None, timing)
                        .map(|()| Outcome::NotModified)
                        .unwrap_or_else(|e| storage_failed(&e))
                } else {
                    match parse_feed(&f.body, f.content_type.as_deref(), &f.final_url) {
                        Err(e) => self.record_failure(
                            feed,
                            every,
                            now,
                            Some(f.status),
                            &format!("invalid feed: {e}"),
                            timing,
                        ),
                        Ok(parsed) => {
                            let timing = Timing {
                                ttl: parsed.ttl,
                                ..timing
                            };
                            self.store_parsed(feed, config, &parsed, now)
                                .and_then(|(new, updated)| {
                                    self.record_success(
                                        feed,
                                        every,
                                        now,
                                        f.status,
                                        &f.validators,
                                        parsed.title.clone(),
                                        timing,
                                    )?;
                                    Ok(Outcome::Updated {
                                        status: f.status,
                                        items: parsed.items.len(),
                                        new,
                                        updated,
                                    })
                                })
                                .unwrap_or_else(|e| storage_failed(&e))
                        }
                    }
                }
            }
        };
        let report = FeedReport {
            feed: feed.name.clone(),
            url: feed.url.clone(),
            outcome,
            elapsed: start.elapsed(),
        };
        log_report(&report);
        report
    }

    /// Triage against the store, enrich what is new or changed, write the batch.
    fn store_parsed(
        &self,
        feed: &DueFeed,
        config: Option<&FeedConfig>,
        parsed: &ParsedFeed,
        now: DateTime<Utc>,
    ) -> Result<(usize, usize), StoreError> {
        let mut store = self.store();
        let seen = store.triage(feed.id, &parsed.items)?;
        let batch: Vec<NewItem> = parsed
            .items
            .iter()
            .zip(seen)
            .filter_map(|(item, seen)| {
                use crate::store::Seen;
                match seen {
                    Seen::Unchanged(_) => None,
                    Seen::SameUrl(_) => Some(NewItem {
                        parsed: item.clone(),
                        ..NewItem::default()
                    }),
                    Seen::New | Seen::Changed(_) => Some(enrich(item, parsed, config)),
                }
            })
            .collect();
        let report = store.store_items(feed.id, &batch, now)?;
        Ok((report.new, report.updated))
    }

    #[allow(clippy::too_many_arguments)]
    fn record_success(
        &self,
        feed: &DueFeed,
        every: Duration,
        now: DateTime<Utc>,
        status: u16,
        validators: &Validators,
        title: Option<String>,
        timing: Timing,
    ) -> Result<(), StoreError> {
        self.store().record_fetch(
            feed.id,
            &FetchRecord {
                fetched_at: now,
                status: Some(status),
                error: None,
                etag: validators.etag.clone(),
                last_modified: validators.last_modified.clone(),
                title,
                next_check_at: next_check(now, &feed.name, every, timing, 0),
            },
        )
    }

    fn record_failure(
        &self,
        feed: &DueFeed,
        every: Duration,
        now: DateTime<Utc>,
        status: Option<u16>,
        error: &str,
        timing: Timing,
    ) -> Outcome {
        let errors = feed.error_count + 1;
        let rec = FetchRecord {
            fetched_at: now,
            status,
            error: Some(error.to_string()),
            next_check_at: next_check(now, &feed.name, every, timing, errors),
            ..FetchRecord::default()
        };
        if let Err(e) = self.store().record_fetch(feed.id, &rec) {
            return storage_failed(&e);
        }
        Outcome::Failed {
            status,
            error: error.to_string(),
        }
    }
}

/// What the pipeline adds to a parsed item before storage: its language (for now the declared
/// one: item, then feed, then configured).
fn enrich(item: &ParsedItem, feed: &ParsedFeed, config: Option<&FeedConfig>) -> NewItem {
    let language = item
        .language
        .clone()
        .or_else(|| feed.language.clone())
        .or_else(|| config.and_then(|c| c.language.clone()));
    NewItem {
        parsed: item.clone(),
        language,
        matches: Vec::new(),
        article: None,
    }
}

fn feed_map(config: &Config) -> HashMap<String, FeedConfig> {
    config
        .feeds
        .iter()
        .map(|f| (f.name.clone(), f.clone()))
        .collect()
}

fn storage_failed(e: &StoreError) -> Outcome {
    Outcome::Failed {
        status: None,
        error: format!("storage: {e}"),
    }
}

fn log_report(r: &FeedReport) {
    let elapsed_ms = r.elapsed.as_millis() as u64;
    match &r.outcome {
        Outcome::Updated {
            status,
            items,
            new,
            updated,
        } => {
            tracing::info!(feed = %r.feed, url = %r.url, status, items, new, updated, elapsed_ms, "feed refreshed")
        }
        Outcome::NotModified => {
            tracing::info!(feed = %r.feed, url = %r.url, status = 304, elapsed_ms, "feed not modified")
        }
        Outcome::Failed { status, error } => {
            tracing::warn!(feed = %r.feed, url = %r.url, status, error = %error, elapsed_ms, "feed failed")
        }
    }
}

/// Why a pipeline could not be built or a poll could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot build the HTTP client: {0}")]
    Fetch(#[from] FetchError),
}
