//! The orchestrator: `refresh_feed` reads top to bottom — fetch, parse (a feed, or a listing or
//! JSON source with its next pages), triage against the store, enrich what is new, store, record
//! the feed's health. `poll` runs it over due feeds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use chrono::Utc;
use futures_util::StreamExt;

use super::article;
use super::classify::Classifier;
use super::clean;
use super::extract::Extractor;
use super::fetch::{Fetcher, Validators};
use super::language;
use super::limits::bound_items;
use super::schedule::{Timing, next_check};
use super::sources::{self, Source};
use crate::config::{Config, ConfigError, FeedConfig, FetchSettings};
use crate::error::{FetchError, StoreError};
use crate::model::{ArticleReport, ParsedFeed, ParsedItem};
use crate::store::{DueFeed, FetchRecord, Hashes, NewItem, Seen, Store, content_hash, source_hash};

/// Article pages fetched at once for one feed (the fetcher's per-host limit applies too).
pub(crate) const ARTICLES_IN_FLIGHT: usize = 4;

/// A feed's configuration with what is built from it once (its extractor).
#[derive(Clone)]
struct FeedRuntime {
    config: FeedConfig,
    extractor: Arc<Extractor>,
}

/// Everything a refresh needs, shared by all feeds of a poll. A reload swaps the parts built
/// from the configuration; a refresh in flight finishes with the ones it started with.
pub struct Pipeline {
    store: Mutex<Store>,
    /// The HTTP client of the running `[fetch]` settings (rebuilt when a reload changes them).
    fetch: RwLock<(FetchSettings, Arc<Fetcher>)>,
    feeds: RwLock<HashMap<String, FeedRuntime>>,
    /// Topic rules, built once per configuration and swapped on reload.
    classifier: RwLock<Arc<Classifier>>,
    /// One permit per core for CPU-bound stages.
    cpu: tokio::sync::Semaphore,
    /// Storage failures: counted for health, and each feed they hit backs off.
    storage: Mutex<StorageState>,
}

/// How storage has been doing, for `/health` and the metrics.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct StorageHealth {
    /// Storage errors since the start.
    pub errors_total: u64,
    /// Storage errors since the last successful write (0: the last write succeeded).
    pub consecutive: u64,
    pub last_error: Option<String>,
    pub last_error_at: Option<chrono::DateTime<Utc>>,
}

#[derive(Default)]
struct StorageState {
    health: StorageHealth,
    /// Feeds whose last refresh could not be stored: consecutive failures, and when to try
    /// again. Kept in memory, since the database may be what fails.
    backoff: HashMap<i64, (u32, chrono::DateTime<Utc>)>,
    /// How long each feed in flight has waited for the database's write lock so far (taken
    /// into its report when it finishes).
    lock_waits: HashMap<i64, Duration>,
}

/// The first wait after a storage failure; it doubles per failure…
pub const STORAGE_RETRY: Duration = Duration::from_secs(60);
/// …up to this.
pub const STORAGE_RETRY_MAX: Duration = Duration::from_secs(3600);

/// How one feed's refresh ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// New content was fetched and stored.
    Updated {
        status: u16,
        items: usize,
        new: usize,
        updated: usize,
        /// Article pages fetched for new items that gave no usable text.
        articles_failed: usize,
        /// Items in the document when it had more than `max_items_per_feed`.
        capped_from: Option<usize>,
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
    /// Of `elapsed`, how long its writes waited for the database's write lock (held by another
    /// connection: retention, another process): the time it was blocked, apart from its work.
    pub lock_wait: Duration,
    /// New or changed items stored with each topic, by topic id.
    pub matches: Vec<(String, usize)>,
    /// The article pages fetched for new items and why those without text gave none (`None`
    /// when no page was fetched).
    pub articles: Option<ArticleReport>,
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
            "{} {}: {} ok ({} not modified), {} failed; {} new {}, {} updated",
            self.feeds,
            if self.feeds == 1 { "feed" } else { "feeds" },
            self.ok,
            self.not_modified,
            self.failed,
            self.new_items,
            if self.new_items == 1 { "item" } else { "items" },
            self.updated_items
        )
    }
}

impl Pipeline {
    /// Opens the store, syncs its feed list with the configuration and builds the HTTP client.
    pub fn new(config: &Config, store: Store) -> Result<Pipeline, PipelineError> {
        let classifier = Classifier::load(&config.classifier.topics_dir)?;
        let mut store = store;
        store.sync_feeds(&config.feeds, Utc::now())?;
        Ok(Pipeline {
            store: Mutex::new(store),
            fetch: RwLock::new((config.fetch.clone(), Arc::new(Fetcher::new(&config.fetch)?))),
            feeds: RwLock::new(feed_map(config)),
            classifier: RwLock::new(Arc::new(classifier)),
            cpu: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            ),
            storage: Mutex::new(StorageState::default()),
        })
    }

    /// Takes a new configuration's feed list (added, removed, changed feeds), topic rules and
    /// `[fetch]` settings (timeouts, limits, user agent) without a restart; a part that fails to
    /// build leaves everything as it was.
    pub fn reload(&self, config: &Config) -> Result<(), PipelineError> {
        let classifier = Classifier::load(&config.classifier.topics_dir)?;
        let fetcher = if self.fetch_settings() == config.fetch {
            None
        } else {
            Some(Arc::new(Fetcher::new(&config.fetch)?))
        };
        self.store().sync_feeds(&config.feeds, Utc::now())?;
        *self.feeds.write().unwrap_or_else(|p| p.into_inner()) = feed_map(config);
        *self.classifier.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(classifier);
        if let Some(fetcher) = fetcher {
            *self.fetch.write().unwrap_or_else(|p| p.into_inner()) =
                (config.fetch.clone(), fetcher);
            tracing::info!("fetch settings reloaded");
        }
        Ok(())
    }

    /// The `[fetch]` settings in use.
    pub fn fetch_settings(&self) -> FetchSettings {
        self.fetch
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .0
            .clone()
    }

    /// The fetcher in use (politeness limits shared with polls; rebuilt when `[fetch]` is
    /// reloaded).
    pub(crate) fn fetcher(&self) -> Arc<Fetcher> {
        self.fetch
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .1
            .clone()
    }

    /// How storage has been doing.
    pub fn storage_health(&self) -> StorageHealth {
        self.storage_state().health.clone()
    }

    fn storage_state(&self) -> MutexGuard<'_, StorageState> {
        self.storage.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether `feed` waits after a storage failure at `now`.
    fn backing_off(&self, feed: i64, now: chrono::DateTime<Utc>) -> bool {
        self.storage_state()
            .backoff
            .get(&feed)
            .is_some_and(|(_, until)| *until > now)
    }

    /// The topic rules in use.
    pub fn classifier(&self) -> Arc<Classifier> {
        self.classifier
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// A configured feed and its extractor (the default extractor for a feed no longer
    /// configured).
    pub(crate) fn feed_runtime(&self, name: &str) -> (Option<FeedConfig>, Arc<Extractor>) {
        match self
            .feeds
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
        {
            Some(r) => (Some(r.config.clone()), r.extractor.clone()),
            None => (
                None,
                Arc::new(
                    Extractor::new(&Default::default())
                        .expect("the default extractor has no selectors to reject"),
                ),
            ),
        }
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
        // Refuse to go on with a database file that is no longer the one opened.
        self.store().check_file()?;
        let now = Utc::now();
        let due: Vec<DueFeed> = self
            .store()
            .due_feeds(now, all)?
            .into_iter()
            .filter(|f| !self.backing_off(f.id, now))
            .collect();
        let due = interleave_hosts(due);
        let concurrency = self.fetch_settings().concurrency;
        let total = due.len();
        let mut summary = PollSummary::default();
        let mut done = futures_util::stream::iter(due)
            .map(|feed| async move { self.refresh_feed(&feed).await })
            .buffer_unordered(concurrency);
        while let Some(report) = done.next().await {
            summary.add(&report);
            on_feed(&report, total);
        }
        Ok(summary)
    }

    /// Fetch → parse → triage → articles → enrich → store → record health, for one feed.
    pub async fn refresh_feed(&self, feed: &DueFeed) -> FeedReport {
        let start = Instant::now();
        let (mut matches, mut articles) = (Vec::new(), None);
        let outcome = self.refresh(feed, &mut matches, &mut articles).await;
        let report = FeedReport {
            feed: feed.name.clone(),
            url: feed.url.clone(),
            outcome,
            elapsed: start.elapsed(),
            lock_wait: self
                .storage_state()
                .lock_waits
                .remove(&feed.id)
                .unwrap_or_default(),
            matches,
            articles,
        };
        log_report(&report);
        report
    }

    async fn refresh(
        &self,
        feed: &DueFeed,
        matches: &mut Vec<(String, usize)>,
        article_report: &mut Option<ArticleReport>,
    ) -> Outcome {
        let runtime = self
            .feeds
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&feed.name)
            .cloned();
        let config = runtime.as_ref().map(|r| &r.config);
        let every = config.map_or(crate::config::DEFAULT_EVERY, |c| c.every);
        let (fetcher, max_items) = (self.fetcher(), self.fetch_settings().max_items_per_feed);
        let validators = Validators {
            etag: feed.etag.clone(),
            last_modified: feed.last_modified.clone(),
        };

        // 1. Fetch the feed document (conditional GET).
        let mut fetched = match fetcher.get(&feed.url, &validators).await {
            Ok(f) => f,
            Err(failure) => {
                let timing = Timing {
                    retry_after: failure.hints.retry_after,
                    ..Timing::default()
                };
                let error = failure.error.to_string();
                return self.record_failure(feed, every, failure.error.status(), &error, timing);
            }
        };
        let mut timing = Timing {
            ttl: None,
            max_age: fetched.hints.max_age,
            retry_after: fetched.hints.retry_after,
        };
        if fetched.not_modified() {
            let record = self.success(feed, every, 304, &fetched.validators, None, timing, None);
            return self.record(feed, record, Outcome::NotModified);
        }

        // 2. Parse it as its kind says (feed, HTML listing, JSON endpoint), read the listing's
        //    next pages, if any, and keep at most `max_items_per_feed`, one per guid and content.
        //    Parsing and enriching are CPU work: they run on the blocking pool, so feeds polled
        //    at once use every core and the runtime's workers stay free for I/O.
        let source = config.map_or(&Source::Rss, |c| &c.source);
        let page = {
            let (source, body) = (source.clone(), std::mem::take(&mut fetched.body));
            let (content_type, url) = (fetched.content_type.clone(), fetched.final_url.clone());
            self.off_runtime(move || {
                sources::parse_page_raw(&body, content_type.as_deref(), &url, &source)
            })
            .await
        };
        let first = match page.and_then(|parsed| parsed.map_err(|e| e.to_string())) {
            Ok(p) => p,
            Err(error) => {
                return self.record_failure(feed, every, Some(fetched.status), &error, timing);
            }
        };
        let listing =
            super::listing::follow_pages(&fetcher, source, &feed.url, &fetched.final_url, first)
                .await;
        for failure in &listing.failures {
            tracing::warn!(feed = %feed.name, error = %failure, "listing page failed; keeping the pages read");
        }
        let mut parsed = listing.feed;
        for warning in &parsed.warnings {
            tracing::warn!(feed = %feed.name, warning = %warning, "feed document recovered");
        }
        timing.ttl = parsed.ttl;
        let bounded = bound_items(&mut parsed.items, max_items);
        if bounded.capped_from.is_some() || bounded.duplicates > 0 {
            tracing::warn!(feed = %feed.name, capped_from = bounded.capped_from, kept = parsed.items.len(),
                duplicates = bounded.duplicates, "feed document bounded");
        }

        // 3. Triage: items this feed gave before exactly as now are recognised as they are;
        //    only the others are finished (markup → text, the costly part) and compared by
        //    content. Only new and changed items go on.
        // (Each store call is its own statement: the lock is released before a failure is
        // recorded, which takes it again.)
        // Each item's hashes are computed once, here, and carried to the store.
        let sources: Vec<String> = parsed.items.iter().map(source_hash).collect();
        let known = self
            .store()
            .recognise_hashed(feed.id, &parsed.items, &sources);
        let known = match known {
            Ok(known) => known,
            Err(e) => return self.storage_failed(feed, every, &e),
        };
        let finished = self
            .off_runtime(move || {
                let contents: Vec<Option<String>> = parsed
                    .items
                    .iter_mut()
                    .zip(&known)
                    .map(|(item, known)| {
                        known.is_none().then(|| {
                            clean::finish(item);
                            content_hash(item)
                        })
                    })
                    .collect();
                (parsed, known, contents)
            })
            .await;
        let (mut parsed, known, contents) = match finished {
            Ok(done) => done,
            Err(panicked) => return self.record_failure(feed, every, None, &panicked, timing),
        };
        let seen = self
            .store()
            .triage_hashed(feed.id, &parsed.items, &known, &contents);
        let seen = match seen {
            Ok(seen) => seen,
            Err(e) => return self.storage_failed(feed, every, &e),
        };
        let reissued = seen
            .iter()
            .filter(|s| matches!(s, Seen::Reissued { .. }))
            .count();

        // 4. Fetch and extract the article pages the feed's text is too short for.
        let articles = self
            .articles(&fetcher, runtime.as_ref(), &parsed.items, &seen)
            .await;
        let pages = parsed
            .items
            .iter()
            .zip(&articles)
            .filter_map(|(item, a)| Some((item.url.as_deref()?, &a.as_ref()?.article)));
        *article_report = Some(article::report(Utc::now(), pages)).filter(|r| r.pages > 0);
        let articles_failed = article_report
            .as_ref()
            .map_or(0, ArticleReport::failed_pages);

        // 5. Enrich (language, topics) and 6. store in one transaction.
        let (classifier, feed_config) = (self.classifier(), config.cloned());
        let item_count = parsed.items.len();
        let items = std::mem::take(&mut parsed.items);
        let enriched = self
            .off_runtime(move || {
                let batch: Vec<NewItem> = items
                    .into_iter()
                    .zip(seen.iter().zip(&known))
                    .zip(sources.into_iter().zip(contents))
                    .zip(articles)
                    .filter_map(|(((item, (seen, known)), (source, content)), article)| {
                        let hashes = content.map(|content| Hashes { content, source });
                        match seen {
                            // Recognised by its text: its source is written down, to be
                            // recognised without finishing it next time.
                            Seen::Unchanged(_) if known.is_none() => Some(NewItem {
                                parsed: item,
                                hashes,
                                ..NewItem::default()
                            }),
                            Seen::Unchanged(_) | Seen::Reissued { changed: false, .. } => None,
                            // From another feed: one more source row. Pruned by retention: its
                            // tombstone is marked seen today.
                            Seen::SameUrl(_) | Seen::Pruned => Some(NewItem {
                                parsed: item,
                                hashes,
                                ..NewItem::default()
                            }),
                            // Packed and folded here, off the write lock, beside other feeds.
                            Seen::New | Seen::Changed(_) | Seen::Reissued { changed: true, .. } => {
                                Some(
                                    NewItem {
                                        hashes,
                                        ..enrich(
                                            item,
                                            article,
                                            &parsed,
                                            feed_config.as_ref(),
                                            &classifier,
                                        )
                                    }
                                    .prepared(),
                                )
                            }
                        }
                    })
                    .collect();
                (parsed, batch)
            })
            .await;
        let (parsed, batch) = match enriched {
            Ok(done) => done,
            Err(panicked) => return self.record_failure(feed, every, None, &panicked, timing),
        };
        // Never write into a database file that was deleted or replaced meanwhile.
        let stored = self.write_for(feed.id, |store| {
            store
                .check_file()
                .and_then(|()| store.store_items(feed.id, &batch, Utc::now()))
        });
        let stored = match stored {
            Ok(r) => r,
            Err(e) => return self.storage_failed(feed, every, &e),
        };
        *matches = topic_counts(&batch);

        // 7. Record the feed's health and next check.
        let mut record = self.success(
            feed,
            every,
            fetched.status,
            &fetched.validators,
            parsed.title.clone(),
            timing,
            article_report.as_ref().map(|_| articles_failed as i64),
        );
        record.article_report = article_report.clone();
        record.reissued = Some(reissued as i64);
        if reissued > 0 {
            tracing::info!(feed = %feed.name, reissued, "items recognised by link or content under new guids");
        }
        record.warning = (!parsed.warnings.is_empty()).then(|| parsed.warnings.join("; "));
        record.read_document = true;
        self.record(
            feed,
            record,
            Outcome::Updated {
                status: fetched.status,
                items: item_count,
                new: stored.new,
                updated: stored.updated,
                articles_failed,
                capped_from: bounded.capped_from,
            },
        )
    }

    /// Runs CPU-bound work (parsing, enriching) on the runtime's blocking pool, at most one job
    /// per core at a time, so that many feeds in flight neither starve the I/O workers nor hold
    /// many parsed documents in memory at once. A panic in it comes back as an error message:
    /// that feed fails, the poll goes on.
    pub(crate) async fn off_runtime<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, String> {
        let _core = self.cpu.acquire().await;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| format!("internal error while processing the feed: {e}"))
    }

    /// Fetches, for each new or changed item that needs it, its article page (a few at a time;
    /// the fetcher's per-host limits apply). `None` where no page was wanted.
    async fn articles(
        &self,
        fetcher: &Fetcher,
        runtime: Option<&FeedRuntime>,
        items: &[ParsedItem],
        seen: &[Seen],
    ) -> Vec<Option<article::Fetched>> {
        let Some(runtime) = runtime else {
            return vec![None; items.len()];
        };
        // Indices, not borrowed pairs: the futures then borrow only from this scope, which keeps
        // the poll future `Send` for every lifetime (a closure over `&(item, seen)` is not).
        futures_util::stream::iter(0..items.len())
            .map(|i| async move {
                let (item, seen) = (&items[i], &seen[i]);
                let fresh = seen.is_fresh();
                match &item.url {
                    Some(url) if fresh && article::wanted(runtime.config.fetch_article, item) => {
                        Some(article::fetch(fetcher, &runtime.extractor, url).await)
                    }
                    _ => None,
                }
            })
            .buffered(ARTICLES_IN_FLIGHT)
            .collect()
            .await
    }

    #[allow(clippy::too_many_arguments)]
    fn success(
        &self,
        feed: &DueFeed,
        every: Duration,
        status: u16,
        validators: &Validators,
        title: Option<String>,
        timing: Timing,
        article_failures: Option<i64>,
    ) -> FetchRecord {
        let now = Utc::now();
        FetchRecord {
            fetched_at: now,
            status: Some(status),
            error: None,
            etag: validators.etag.clone(),
            last_modified: validators.last_modified.clone(),
            title,
            next_check_at: next_check(now, &feed.name, every, timing, 0),
            article_failures,
            reissued: None,
            warning: None,
            read_document: false,
            article_report: None,
        }
    }

    /// Runs `write` on the store, counting the time it waited for the write lock against `feed`.
    fn write_for<T>(&self, feed: i64, write: impl FnOnce(&mut Store) -> T) -> T {
        let (out, waited) = {
            let mut store = self.store();
            let before = store.lock_waited();
            let out = write(&mut store);
            (out, store.lock_waited().saturating_sub(before))
        };
        *self.storage_state().lock_waits.entry(feed).or_default() += waited;
        out
    }

    /// Writes the feed's health; the outcome stands unless that write fails.
    fn record(&self, feed: &DueFeed, record: FetchRecord, outcome: Outcome) -> Outcome {
        let written = self.write_for(feed.id, |s| s.record_fetch(feed.id, &record));
        match written {
            Ok(()) => {
                let mut state = self.storage_state();
                state.backoff.remove(&feed.id);
                state.health.consecutive = 0;
                outcome
            }
            Err(e) => self.storage_failed(feed, DEFAULT_STORAGE_EVERY, &e),
        }
    }

    /// A storage failure: counted for health, logged, and the feed waits before its next try
    /// (in memory, since the database may be what fails; its next check is written too when
    /// the database takes it).
    fn storage_failed(&self, feed: &DueFeed, every: Duration, e: &StoreError) -> Outcome {
        let now = Utc::now();
        let error = format!("storage: {e}");
        let errors = {
            let mut state = self.storage_state();
            state.health.errors_total += 1;
            state.health.consecutive += 1;
            state.health.last_error = Some(error.clone());
            state.health.last_error_at = Some(now);
            let errors = state.backoff.get(&feed.id).map_or(0, |(n, _)| *n) + 1;
            let factor = 2u32.saturating_pow((errors - 1).min(20));
            let wait = STORAGE_RETRY.saturating_mul(factor).min(STORAGE_RETRY_MAX);
            state
                .backoff
                .insert(feed.id, (errors, crate::duration::later(now, wait)));
            errors
        };
        tracing::error!(feed = %feed.name, error = %e, consecutive = errors, "storage failed; the feed backs off");
        let rec = FetchRecord {
            fetched_at: now,
            error: Some(error.clone()),
            next_check_at: next_check(
                now,
                &feed.name,
                every.max(STORAGE_RETRY),
                Timing::default(),
                i64::from(errors),
            ),
            ..FetchRecord::default()
        };
        let _ = self.write_for(feed.id, |s| s.record_fetch(feed.id, &rec));
        Outcome::Failed {
            status: None,
            error,
        }
    }

    fn record_failure(
        &self,
        feed: &DueFeed,
        every: Duration,
        status: Option<u16>,
        error: &str,
        timing: Timing,
    ) -> Outcome {
        let now = Utc::now();
        let errors = feed.error_count + 1;
        let rec = FetchRecord {
            fetched_at: now,
            status,
            error: Some(error.to_string()),
            next_check_at: next_check(now, &feed.name, every, timing, errors),
            ..FetchRecord::default()
        };
        self.record(
            feed,
            rec,
            Outcome::Failed {
                status,
                error: error.to_string(),
            },
        )
    }
}

/// What the pipeline adds to a parsed item before storage: the article text when one was
/// extracted, the language read from the text (article, else feed text) against what the item,
/// its page, its link, its feed and the configuration declare, and the topics it matches
/// (classified on the title and the same text).
pub(crate) fn enrich(
    item: ParsedItem,
    article: Option<article::Fetched>,
    feed: &ParsedFeed,
    config: Option<&FeedConfig>,
    classifier: &Classifier,
) -> NewItem {
    let body = article
        .as_ref()
        .and_then(|a| a.article.text.as_deref())
        .unwrap_or(&item.text);
    let hints = language::Hints {
        item: item.language.as_deref(),
        page: article
            .as_ref()
            .and_then(|a| a.declared_language.as_deref()),
        feed: feed.language.as_deref(),
        configured: config.and_then(|c| c.language.as_deref()),
        url: item.url.as_deref(),
    };
    let detected = language::detect(&item.title, body, &hints);
    let language = detected.map(|d| d.code.to_string());
    let matches = classifier.matches(&item.title, body, language.as_deref());
    let article = article.map(|a| a.article);
    // The text was derived from the feed's HTML; of the HTML only its links are kept.
    let links: Vec<String> = [&item.content_html, &item.summary_html]
        .into_iter()
        .flatten()
        .flat_map(|h| super::text::links_in(h))
        .fold(Vec::new(), |mut all, l| {
            if !all.contains(&l) {
                all.push(l);
            }
            all
        });
    NewItem {
        parsed: item,
        links: (!links.is_empty()).then(|| links.join("\n")),
        language,
        language_source: detected.map(|d| (d.source.as_str().to_string(), d.confidence)),
        matches,
        article,
        hashes: None,
        prepared: None,
    }
}

/// The due feeds in turns over their hosts: the first feed of every host, then the second of
/// every host, and so on (each host's feeds keep their order). A feed waiting for its host's
/// politeness delay holds one of the poll's `concurrency` places; with a site's feeds listed
/// together, every place would wait on the same host while all the others stayed idle, and a
/// cycle would take (feeds × per-host delay) instead of (feeds of the busiest host × delay).
fn interleave_hosts(due: Vec<DueFeed>) -> Vec<DueFeed> {
    let mut hosts: Vec<(String, std::collections::VecDeque<DueFeed>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for feed in due {
        let host = url::Url::parse(&feed.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
            .unwrap_or_default();
        let i = *index.entry(host.clone()).or_insert_with(|| {
            hosts.push((host, Default::default()));
            hosts.len() - 1
        });
        hosts[i].1.push_back(feed);
    }
    let total = hosts.iter().map(|(_, q)| q.len()).sum();
    let mut out = Vec::with_capacity(total);
    while out.len() < total {
        for (_, queue) in &mut hosts {
            if let Some(feed) = queue.pop_front() {
                out.push(feed);
            }
        }
    }
    out
}

/// How many items of a batch match each topic.
fn topic_counts(batch: &[NewItem]) -> Vec<(String, usize)> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for m in batch.iter().flat_map(|i| &i.matches) {
        match counts.iter_mut().find(|(t, _)| *t == m.topic) {
            Some((_, n)) => *n += 1,
            None => counts.push((m.topic.clone(), 1)),
        }
    }
    counts
}

fn feed_map(config: &Config) -> HashMap<String, FeedRuntime> {
    config
        .feeds
        .iter()
        .map(|f| {
            // Selectors were validated when the configuration was loaded.
            let extractor = Extractor::new(&f.extract_options())
                .or_else(|_| Extractor::new(&Default::default()))
                .expect("the default extractor has no selectors to reject");
            let runtime = FeedRuntime {
                config: f.clone(),
                extractor: Arc::new(extractor),
            };
            (f.name.clone(), runtime)
        })
        .collect()
}
/// The interval assumed for a feed whose configuration is not at hand.
const DEFAULT_STORAGE_EVERY: Duration = STORAGE_RETRY;

fn log_report(r: &FeedReport) {
    let elapsed_ms = r.elapsed.as_millis() as u64;
    let lock_wait_ms = r.lock_wait.as_millis() as u64;
    match &r.outcome {
        Outcome::Updated {
            status,
            items,
            new,
            updated,
            articles_failed,
            capped_from,
        } => {
            tracing::info!(feed = %r.feed, url = %r.url, status, items, new, updated, articles_failed, capped_from, elapsed_ms, lock_wait_ms, "feed refreshed");
            if let Some(a) = r.articles.as_ref().filter(|a| a.failed_pages() > 0) {
                tracing::warn!(feed = %r.feed, articles_failed, pages = a.pages, reasons = %a.reasons(),
                    "article pages gave no text; their items keep the feed's summary");
            }
        }
        Outcome::NotModified => {
            tracing::info!(feed = %r.feed, url = %r.url, status = 304, elapsed_ms, lock_wait_ms, "feed not modified")
        }
        Outcome::Failed { status, error } => {
            tracing::warn!(feed = %r.feed, url = %r.url, status, error = %error, elapsed_ms, lock_wait_ms, "feed failed")
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
    #[error("topic rules: {0}")]
    Rules(#[from] ConfigError),
    /// A stage panicked (a bug): the message says where.
    #[error("{0}")]
    Internal(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn due(name: &str, url: &str) -> DueFeed {
        DueFeed {
            id: 0,
            name: name.to_string(),
            url: url.to_string(),
            etag: None,
            last_modified: None,
            error_count: 0,
        }
    }

    /// Regression: a site's feeds listed together took every place of the poll, all waiting for
    /// that one host's politeness delay while the other hosts stayed idle.
    #[test]
    fn feeds_of_one_site_listed_together_are_polled_in_turns_over_the_sites() {
        let feeds = vec![
            due("a1", "https://a.example/1"),
            due("a2", "https://A.example/2"),
            due("a3", "https://a.example/3"),
            due("b1", "https://b.example/1"),
            due("c1", "http://c.example:8080/1"),
            due("c2", "http://c.example:8080/2"),
            due("bad", "not a url"),
        ];
        let order: Vec<String> = interleave_hosts(feeds)
            .into_iter()
            .map(|f| f.name)
            .collect();
        assert_eq!(order, ["a1", "b1", "c1", "bad", "a2", "c2", "a3"]);
    }
}
