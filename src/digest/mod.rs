//! Digests: for each watch list, select what is due, group it into stories, render it, store the
//! composed message (and the webhook body), then mail it and post it — each exactly once.
//!
//! The delivery protocol, in two steps each safe to interrupt:
//!
//! 1. **Compose** (one SQLite transaction): the digest's bytes, Message-ID and envelope are
//!    stored as `pending`, its items are claimed for the watch list (an item is claimed at most
//!    once per watch list) and the watch list's next fire time moves on. A crash before the
//!    commit leaves nothing: the fire is still due and composes again.
//! 2. **Deliver**: every pending digest whose attempt is due is handed to the transport as
//!    stored; only when the transport accepted it is it marked `sent`. A failure records the
//!    error and the next attempt after a capped exponential backoff; a crash leaves it pending.
//!    Either way the next run sends the same bytes with the same Message-ID.
//!
//! Each attempt first takes a lease on the digest in the database, so two processes on one
//! database (`veille run` and `veille digest --send`) never send the same digest at once: the
//! lease is taken when that digest's turn comes (not when the batch starts), renewed while the
//! transport works, and only its holder renews it. Every attempt is bounded by `mail.timeout`
//! (connecting, each command, the data and the server's final reply all within it), so a
//! silent server costs one timeout, recorded as a failure and retried later.
//!
//! A watch list may also (or, without recipients, only) post its digests to a chat webhook
//! ([`webhook`]). Each destination is delivered on its own by the same protocol: the body is
//! stored at compose time, the webhook delivery has its own state, lease, attempts and backoff
//! (`digest_webhooks`), and it is `sent` only once the endpoint answered 2xx. A failing webhook
//! never resends the mail, nor a failing mail the post.
//!
//! Nothing is dropped: a digest stays pending until some transport accepts it. The one window
//! left — the transport accepted but the process died before `sent` was written — resends the
//! identical message (same Message-ID, which mail clients collapse; the outbox rewrites the
//! same file), never a different one. For a webhook that window resends the same body with the
//! same `Idempotency-Key` header (the Message-ID; the `id` of the JSON body).

pub mod config;
pub mod evidence;
pub mod group;
pub mod message;
pub mod render;
pub mod schedule;
pub mod select;
pub mod transport;
pub mod webhook;

use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::message::Mailbox;

use self::config::Watchlist;
use self::schedule::Due;
use self::select::{ArticleTrouble, DigestContent, FailingFeed};
use self::transport::{Mailer, SendError};
use crate::config::Config;
use crate::error::StoreError;
use crate::pipeline::schedule::FAILING_AFTER;
use crate::store::{Channel, NewWebhook, Store, WatchState};

/// The first digest of a new watch list covers items fetched this long before it was first seen.
pub const LOOKBACK: Duration = Duration::from_secs(7 * 24 * 3600);
/// How long a lease holds a pending digest against other senders; the holder renews it every
/// third of this while the transport works. After a crash mid-send the digest is due again
/// once this has passed.
pub const SEND_LEASE: Duration = Duration::from_secs(300);
/// The wait after a first failed send; it doubles per failure…
pub const RETRY_BASE: Duration = Duration::from_secs(60);
/// …up to this.
pub const RETRY_MAX: Duration = Duration::from_secs(3600);

/// Why a digest step failed (a failed send is not an error: it is recorded and retried).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DigestError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Compose(#[from] message::ComposeError),
    #[error("mail transport: {0}")]
    Transport(#[from] SendError),
    #[error("no watch list named {0:?} in the configuration")]
    UnknownWatchlist(String),
}

/// The wait before the next attempt after `attempts` failed ones (1 → [`RETRY_BASE`]).
pub fn retry_delay(attempts: i64) -> Duration {
    let factor = 2u32.saturating_pow((attempts - 1).clamp(0, 20) as u32);
    RETRY_BASE.saturating_mul(factor).min(RETRY_MAX)
}

/// The wait after a failed post: the backoff, or longer when the endpoint's `Retry-After` asked
/// for longer (a 429 or 503), never past [`RETRY_MAX`].
pub fn post_retry_delay(attempts: i64, retry_after: Option<Duration>) -> Duration {
    retry_delay(attempts)
        .max(retry_after.unwrap_or_default())
        .min(RETRY_MAX)
}

/// Which watch lists a step looks at, and whether their schedule is bypassed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scope<'a> {
    /// Only this watch list.
    pub watchlist: Option<&'a str>,
    /// Compose now whatever the schedule says (the schedule itself is left as it was).
    pub force: bool,
}

/// What one step did, for logs and the CLI.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepReport {
    /// (watch list, digest id, items) composed and stored.
    pub composed: Vec<(String, i64, usize)>,
    /// Watch lists that fired with nothing new and `send_empty = false`.
    pub skipped_empty: Vec<String>,
    /// (digest id, watch list, Message-ID) accepted by the transport.
    pub sent: Vec<(i64, String, String)>,
    /// (digest id, watch list, error, next attempt) left pending.
    pub failed: Vec<(i64, String, SendError, DateTime<Utc>)>,
    /// (digest id, watch list) posted to the watch list's webhook (a 2xx answer).
    pub posted: Vec<(i64, String)>,
    /// (digest id, watch list, error, next attempt) whose post is left pending.
    pub post_failed: Vec<(i64, String, SendError, DateTime<Utc>)>,
}

/// What deliveries are doing, shared with whoever reports health (`/health`).
#[derive(Debug, Default)]
pub struct Delivery {
    state: std::sync::Mutex<DeliveryState>,
}

/// A snapshot of [`Delivery`].
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct DeliveryState {
    /// The digest a transport is working on now.
    pub sending: Option<Sending>,
    /// Failed attempts since the last success.
    pub consecutive_failures: u32,
    pub last_error: Option<String>,
    pub last_failure_at: Option<DateTime<Utc>>,
    pub last_sent_at: Option<DateTime<Utc>>,
}

/// One attempt in progress.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Sending {
    pub digest: i64,
    pub watchlist: String,
    pub since: DateTime<Utc>,
}

impl Delivery {
    pub fn state(&self) -> DeliveryState {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, DeliveryState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn start(&self, digest: i64, watchlist: &str) {
        self.lock().sending = Some(Sending {
            digest,
            watchlist: watchlist.to_string(),
            since: Utc::now(),
        });
    }

    fn sent(&self) {
        let mut s = self.lock();
        s.sending = None;
        s.consecutive_failures = 0;
        s.last_sent_at = Some(Utc::now());
    }

    fn failed(&self, error: &str) {
        let mut s = self.lock();
        s.sending = None;
        s.consecutive_failures += 1;
        s.last_error = Some(error.to_string());
        s.last_failure_at = Some(Utc::now());
    }

    /// The attempt was abandoned (the process is stopping, or the store failed mid-send).
    fn abandoned(&self) {
        self.lock().sending = None;
    }
}

/// Clears the "sending" state if an attempt is dropped before it ends (forgotten when it ends).
struct Attempt<'a>(&'a Delivery);

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        self.0.abandoned();
    }
}

/// Composes and delivers the digests of the configured watch lists.
pub struct Digester {
    watchlists: Vec<Watchlist>,
    from: Mailbox,
    mailer: Mailer,
    poster: webhook::Poster,
    lease: Duration,
    delivery: std::sync::Arc<Delivery>,
    /// The web view's address, for the judgement links of entries.
    web: Option<url::Url>,
}

impl Digester {
    /// Uses the configuration's watch lists and `[mail]` transport.
    pub fn new(config: &Config) -> Result<Digester, DigestError> {
        Ok(Self::with_mailer(config, Mailer::new(&config.mail)?))
    }

    /// Uses the configuration's watch lists with another transport.
    pub fn with_mailer(config: &Config, mailer: Mailer) -> Digester {
        Digester {
            watchlists: config.watchlists.clone(),
            from: config.mail.from.clone(),
            mailer,
            poster: webhook::Poster::new(),
            lease: SEND_LEASE,
            delivery: Default::default(),
            web: config.server.public_url(),
        }
    }

    /// Leases digests for `lease` instead of [`SEND_LEASE`] (renewed every third of it).
    pub fn with_lease(mut self, lease: Duration) -> Digester {
        self.lease = lease.max(Duration::from_millis(30));
        self
    }

    /// Reports deliveries into `delivery` (shared across reloads of the configuration).
    pub fn with_delivery(mut self, delivery: std::sync::Arc<Delivery>) -> Digester {
        self.delivery = delivery;
        self
    }

    /// What deliveries are doing.
    pub fn delivery(&self) -> &std::sync::Arc<Delivery> {
        &self.delivery
    }

    /// The bound on one delivery attempt (`mail.timeout`).
    pub fn timeout(&self) -> Duration {
        self.mailer.timeout()
    }

    pub fn watchlists(&self) -> &[Watchlist] {
        &self.watchlists
    }

    fn in_scope<'a>(&'a self, scope: &Scope<'_>) -> Result<Vec<&'a Watchlist>, DigestError> {
        match scope.watchlist {
            Some(name) => self
                .watchlists
                .iter()
                .find(|w| w.name == name)
                .map(|w| vec![w])
                .ok_or_else(|| DigestError::UnknownWatchlist(name.into())),
            None => Ok(self.watchlists.iter().collect()),
        }
    }

    /// One full step: compose what is due, then deliver every pending digest that is due.
    pub async fn step(
        &self,
        store: &mut Store,
        now: DateTime<Utc>,
        scope: Scope<'_>,
    ) -> Result<StepReport, DigestError> {
        let mut report = self.compose_due(store, now, scope)?;
        self.deliver(store, now, scope, &mut report).await?;
        Ok(report)
    }

    /// Step 1: for each watch list in scope whose fire is due (or all, with `force`), composes
    /// and stores its digest; a watch list seen for the first time only gets its schedule.
    pub fn compose_due(
        &self,
        store: &mut Store,
        now: DateTime<Utc>,
        scope: Scope<'_>,
    ) -> Result<StepReport, DigestError> {
        let mut report = StepReport::default();
        for wl in self.in_scope(&scope)? {
            let state = store.watch_state(&wl.name)?;
            let state = match state {
                Some(s) if s.schedule == wl.schedule_key() => s,
                old => {
                    // New watch list, or its schedule changed: wait for the next fire from now.
                    let Some(next) = schedule::next_fire(&wl.cron, wl.timezone, now) else {
                        tracing::warn!(watchlist = %wl.name, schedule = %wl.schedule, "schedule never fires again");
                        continue;
                    };
                    let s = WatchState {
                        since: old.map_or_else(|| lookback_from(now), |o| o.since),
                        schedule: wl.schedule_key(),
                        next_fire_at: next,
                    };
                    store.set_watch_state(&wl.name, &s)?;
                    tracing::info!(watchlist = %wl.name, next_fire_at = %next, "digest scheduled");
                    s
                }
            };
            let next = if scope.force {
                None
            } else {
                match schedule::due(&wl.cron, wl.timezone, state.next_fire_at, now) {
                    Some(Due::Fire { next }) => Some(next),
                    _ => continue,
                }
            };
            let mut d = content(store, wl, state.since, now)?;
            if let Some(base) = &self.web {
                d.links = Some(select::JudgeLinks {
                    base: base.to_string(),
                    key: crate::links::Key::load(store)?,
                });
            }
            if d.is_empty() && !wl.send_empty {
                if let Some(next) = next {
                    store.skip_fire(&wl.name, next)?;
                }
                report.skipped_empty.push(wl.name.clone());
                continue;
            }
            let mut composed = message::compose(&d, wl, &self.from)?;
            if let Some(hook) = &wl.webhook {
                let from = store.last_digest_at(&wl.name)?.unwrap_or(state.since);
                composed.webhook = Some(NewWebhook {
                    format: hook.format.as_str().to_string(),
                    host: hook.url.host_str().unwrap_or_default().to_string(),
                    payload: webhook::payload(&d, &composed.message_id, Some(from), hook.format),
                });
            }
            let items = composed.item_ids.len();
            let id = store.save_digest(&composed, next)?;
            tracing::info!(watchlist = %wl.name, digest = id, items, message_id = %composed.message_id, "digest composed");
            report.composed.push((wl.name.clone(), id, items));
        }
        Ok(report)
    }

    /// Step 2: hands every pending digest whose attempt is due to the transport; marks it sent
    /// only once accepted, else records the failure and when to try again. Each digest is
    /// leased when its turn comes and the lease is renewed while it is sent, so another sender
    /// can take it only once this one is done with it (or died). `now` is the time at the
    /// start; the time of each step after it is `now` plus the time elapsed since.
    pub async fn deliver(
        &self,
        store: &mut Store,
        now: DateTime<Utc>,
        scope: Scope<'_>,
        report: &mut StepReport,
    ) -> Result<(), DigestError> {
        let started = std::time::Instant::now();
        let clock = || {
            now + chrono::Duration::from_std(started.elapsed()).unwrap_or(chrono::Duration::zero())
        };
        let lease = chrono::Duration::from_std(self.lease).unwrap_or(chrono::Duration::minutes(5));
        for d in store.pending_digests(now, scope.watchlist)? {
            // `veille run` and `veille digest --send` may share a database: one sender per digest.
            let token = lease_token();
            let taken = clock();
            if !store.lease_digest(d.id, taken, taken + lease, &token)? {
                continue;
            }
            self.delivery.start(d.id, &d.watchlist);
            let attempt = Attempt(&self.delivery);
            let result = self
                .leased(
                    store,
                    (Channel::Mail, d.id, &d.watchlist),
                    &token,
                    &clock,
                    lease,
                    self.mailer.send(&d),
                )
                .await?;
            std::mem::forget(attempt);
            match result {
                Ok(()) => {
                    store.mark_digest_sent(d.id, Utc::now().max(clock()))?;
                    self.delivery.sent();
                    tracing::info!(watchlist = %d.watchlist, digest = d.id, message_id = %d.message_id, "digest sent");
                    report.sent.push((d.id, d.watchlist, d.message_id));
                }
                Err(e) => {
                    let wait = retry_delay(d.attempts + 1);
                    let next = crate::duration::later(clock(), wait);
                    store.record_digest_failure(d.id, &token, &e.message, next)?;
                    self.delivery.failed(&e.message);
                    tracing::warn!(watchlist = %d.watchlist, digest = d.id, attempts = d.attempts + 1,
                        permanent = e.permanent, error = %e, next_attempt_at = %next, "digest send failed; will retry");
                    report.failed.push((d.id, d.watchlist, e, next));
                }
            }
        }
        self.post(store, now, scope, report, &clock, lease).await
    }

    /// Step 2 for webhooks: posts every webhook delivery whose attempt is due to the URL the
    /// watch list has now, under the same lease, retry and backoff rules as mail.
    async fn post(
        &self,
        store: &mut Store,
        now: DateTime<Utc>,
        scope: Scope<'_>,
        report: &mut StepReport,
        clock: &impl Fn() -> DateTime<Utc>,
        lease: chrono::Duration,
    ) -> Result<(), DigestError> {
        for p in store.pending_webhooks(now, scope.watchlist)? {
            let Some(hook) = self
                .watchlists
                .iter()
                .find(|w| w.name == p.watchlist)
                .and_then(|w| w.webhook.as_ref())
            else {
                tracing::warn!(watchlist = %p.watchlist, digest = p.digest_id,
                    "a digest waits for a webhook the watch list no longer has; it stays pending");
                continue;
            };
            let token = lease_token();
            let taken = clock();
            if !store.lease(Channel::Webhook, p.digest_id, taken, taken + lease, &token)? {
                continue;
            }
            let result = self
                .leased(
                    store,
                    (Channel::Webhook, p.digest_id, &p.watchlist),
                    &token,
                    clock,
                    lease,
                    self.poster.post(&hook.url, &p.message_id, &p.payload),
                )
                .await?;
            let host = hook.url.host_str().unwrap_or_default();
            match result {
                Ok(()) => {
                    store.mark_sent(Channel::Webhook, p.digest_id, Utc::now().max(clock()))?;
                    tracing::info!(watchlist = %p.watchlist, digest = p.digest_id, host, format = %p.format, "digest posted");
                    report.posted.push((p.digest_id, p.watchlist));
                }
                Err(e) => {
                    let wait = post_retry_delay(p.attempts + 1, e.retry_after);
                    let next = crate::duration::later(clock(), wait);
                    store.record_failure(
                        Channel::Webhook,
                        p.digest_id,
                        &token,
                        &e.message,
                        next,
                    )?;
                    tracing::warn!(watchlist = %p.watchlist, digest = p.digest_id, host, attempts = p.attempts + 1,
                        permanent = e.permanent, error = %e, retry_after_s = e.retry_after.map(|d| d.as_secs()),
                        next_attempt_at = %next, "digest post failed; will retry");
                    report.post_failed.push((p.digest_id, p.watchlist, e, next));
                }
            }
        }
        Ok(())
    }

    /// Runs one delivery attempt (`send`) of a leased destination, renewing the lease every
    /// third of its length until the attempt is done (which its timeout bounds).
    async fn leased<T>(
        &self,
        store: &mut Store,
        (channel, id, watchlist): (Channel, i64, &str),
        token: &str,
        clock: &impl Fn() -> DateTime<Utc>,
        lease: chrono::Duration,
        send: impl std::future::Future<Output = T>,
    ) -> Result<T, DigestError> {
        tokio::pin!(send);
        let period = self.lease / 3;
        let mut renew = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                result = &mut send => return Ok(result),
                _ = renew.tick() => {
                    if !store.renew(channel, id, token, clock() + lease)? {
                        tracing::warn!(watchlist, digest = id, channel = channel.as_str(), "the send lease was lost while sending");
                    }
                }
            }
        }
    }
}

/// A token naming one lease holder: this process and this attempt.
fn lease_token() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{}-{nanos:x}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// What the next digest of `wl` would say at `now`, without recording anything.
pub fn preview(
    store: &Store,
    wl: &Watchlist,
    now: DateTime<Utc>,
) -> Result<DigestContent, DigestError> {
    let since = store
        .watch_state(&wl.name)?
        .map_or_else(|| lookback_from(now), |s| s.since);
    content(store, wl, since, now)
}

fn lookback_from(now: DateTime<Utc>) -> DateTime<Utc> {
    now - chrono::Duration::from_std(LOOKBACK).unwrap_or(chrono::Duration::zero())
}

/// Reads candidates and feed health from the store and builds the digest content.
fn content(
    store: &Store,
    wl: &Watchlist,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<DigestContent, DigestError> {
    let candidates = store.digest_candidates(&wl.name, &wl.topics, since)?;
    let feeds: Vec<_> = store.feeds()?.into_iter().filter(|f| f.enabled).collect();
    // Failing: erroring for a while, or erroring and never read at all.
    let failing = feeds
        .iter()
        .filter(|f| {
            f.error_count >= FAILING_AFTER || (f.error_count > 0 && f.last_success_at.is_none())
        })
        .map(|f| FailingFeed {
            name: f.name.clone(),
            errors: f.error_count,
            last_error: f.last_error.clone(),
            never_succeeded: f.last_success_at.is_none(),
        })
        .collect();
    let mut d = select::build(wl, &candidates, failing, now);
    d.articles = feeds
        .iter()
        .filter_map(|f| {
            f.article_trouble().map(|r| ArticleTrouble {
                feed: f.name.clone(),
                report: r.clone(),
            })
        })
        .collect();
    d.unpolled = feeds
        .iter()
        .filter(|f| f.last_fetch_at.is_none())
        .map(|f| f.name.clone())
        .collect();
    Ok(d)
}

/// The digest part of the service: its own connection to the database and the [`Digester`] of
/// the running configuration, which a reload replaces (deliveries keep reporting into the same
/// [`Delivery`]).
pub struct Service {
    store: tokio::sync::Mutex<Store>,
    digester: std::sync::RwLock<Option<std::sync::Arc<Digester>>>,
    delivery: std::sync::Arc<Delivery>,
}

impl Service {
    pub fn new(store: Store, digester: Digester) -> Service {
        let delivery = digester.delivery().clone();
        Service {
            store: tokio::sync::Mutex::new(store),
            digester: std::sync::RwLock::new(Some(std::sync::Arc::new(digester))),
            delivery,
        }
    }

    /// A digest part with nothing to do until a reload brings watch lists.
    pub fn idle(store: Store) -> Service {
        Service {
            store: tokio::sync::Mutex::new(store),
            digester: std::sync::RwLock::new(None),
            delivery: Default::default(),
        }
    }

    /// Takes the watch lists and mail settings of a new configuration (`None`: no watch lists);
    /// a send in progress finishes with the old ones.
    pub fn set_digester(&self, digester: Option<Digester>) {
        let digester =
            digester.map(|d| std::sync::Arc::new(d.with_delivery(self.delivery.clone())));
        *self.digester.write().unwrap_or_else(|p| p.into_inner()) = digester;
    }

    /// The digester of the running configuration.
    pub fn digester(&self) -> Option<std::sync::Arc<Digester>> {
        self.digester
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// What deliveries are doing.
    pub fn delivery(&self) -> DeliveryState {
        self.delivery.state()
    }

    /// One step of the service loop; failures are logged, never fatal, except a database file
    /// that is no longer the one opened (returned, for the service to stop).
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<Option<StepReport>, StoreError> {
        let Some(digester) = self.digester() else {
            return Ok(None);
        };
        let mut store = self.store.lock().await;
        store.check_file()?;
        match digester.step(&mut store, now, Scope::default()).await {
            Ok(r) => Ok(Some(r)),
            Err(e) => {
                tracing::error!(error = %e, "digest step failed");
                Ok(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_the_cap() {
        let d: Vec<u64> = (1..=9).map(|a| retry_delay(a).as_secs()).collect();
        assert_eq!(d, [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
        assert_eq!(retry_delay(1000), RETRY_MAX);
    }
}
