//! The long-running service: poll feeds as they fall due, send digests on their schedules (in a
//! task of their own, so that mail never holds up polling), reload the configuration on SIGHUP,
//! serve health and metrics, stop cleanly on SIGINT/SIGTERM — and stop with an error when its
//! database file is deleted or replaced under it.

pub mod http;
pub mod memory;
pub mod metrics;
pub mod retention;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tokio::time::MissedTickBehavior;

use crate::config::Config;
use crate::digest;
use crate::error::StoreError;
use crate::pipeline::schedule::FAILING_AFTER;
use crate::pipeline::{Pipeline, PipelineError};
use crate::store::{Retention, Store};
use metrics::Metrics;

/// How often the service looks for due feeds (a cheap query).
pub const TICK: Duration = Duration::from_secs(15);
/// How long in-flight work may finish after a stop signal before it is abandoned.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// How long `/health` waits for a database lock before it answers without the feeds.
pub const HEALTH_BUSY: Duration = Duration::from_millis(500);

/// The running service's shared state: the pipeline, the digest part, metrics and what they
/// last did.
pub struct Service {
    pub pipeline: Pipeline,
    pub metrics: Metrics,
    /// The configuration file to re-read on reload (`None`: embedded defaults, nothing to re-read).
    pub config_path: Option<PathBuf>,
    /// The digest part, when there is one (its own database connection).
    digests: Option<digest::Service>,
    /// `/health`'s own read-only connection, so that it never waits behind a write (opened at
    /// the first request).
    health_store: Mutex<Option<Store>>,
    database: Option<PathBuf>,
    /// What the running configuration says of the settings only a restart changes.
    restart_only: Mutex<Option<RestartOnly>>,
    started: Instant,
    last_poll: Mutex<Option<DateTime<Utc>>>,
    last_digest: Mutex<Option<DateTime<Utc>>>,
    /// What the daily retention keeps (`[storage]`, follows reloads); forever until set.
    retention: Mutex<Retention>,
}

/// Settings a reload cannot change in a running service.
#[derive(Debug, Clone, PartialEq)]
struct RestartOnly {
    database: PathBuf,
    listen: Option<std::net::SocketAddr>,
    /// A hash of `server.token` (the token itself is never kept here, nor logged).
    token: Option<String>,
    url: Option<url::Url>,
    /// The watch lists as the web view served beside `/health` uses them (built at start), when
    /// there is a listener.
    web_watchlists: Option<Vec<String>>,
}

impl RestartOnly {
    fn of(config: &Config) -> RestartOnly {
        use sha2::Digest as _;
        RestartOnly {
            database: config.storage.database.clone(),
            listen: config.server.listen,
            token: config
                .server
                .token
                .as_ref()
                .map(|t| hex::encode(sha2::Sha256::digest(t.as_bytes()))),
            url: config.server.url.clone(),
            web_watchlists: config.server.listen.map(|_| {
                config
                    .watchlists
                    .iter()
                    .map(|w| {
                        format!(
                            "{} {:?} {:?} {:?} {}",
                            w.name, w.topics, w.feeds, w.languages, w.min_score
                        )
                    })
                    .collect()
            }),
        }
    }

    /// The keys that differ in `new`, with their values.
    fn changed(&self, new: &RestartOnly) -> Vec<String> {
        let mut keys = Vec::new();
        if self.database != new.database {
            keys.push(format!(
                "storage.database ({} → {})",
                self.database.display(),
                new.database.display()
            ));
        }
        if self.listen != new.listen {
            let show = |l: Option<std::net::SocketAddr>| l.map_or("none".into(), |a| a.to_string());
            keys.push(format!(
                "server.listen ({} → {})",
                show(self.listen),
                show(new.listen)
            ));
        }
        if self.token != new.token {
            keys.push("server.token (changed)".into());
        }
        if self.url != new.url {
            let show = |u: &Option<url::Url>| u.as_ref().map_or("none".into(), |u| u.to_string());
            keys.push(format!(
                "server.url ({} → {})",
                show(&self.url),
                show(&new.url)
            ));
        }
        if self.listen == new.listen && self.web_watchlists != new.web_watchlists {
            keys.push(
                "watchlists as the web view shows them (the digests use the new ones)".into(),
            );
        }
        keys
    }
}

/// Something the service is asked to do from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Reload,
    Stop,
}

impl Service {
    pub fn new(
        pipeline: Pipeline,
        config_path: Option<PathBuf>,
        digests: Option<digest::Service>,
    ) -> Service {
        let database = pipeline.store().path().map(PathBuf::from);
        Service {
            pipeline,
            metrics: Metrics::new(),
            config_path,
            digests,
            health_store: Mutex::new(None),
            database,
            restart_only: Mutex::new(None),
            started: Instant::now(),
            last_poll: Mutex::new(None),
            last_digest: Mutex::new(None),
            retention: Mutex::new(Retention::default()),
        }
    }

    /// Remembers the configuration the service started with, to say on reload which changes
    /// need a restart.
    pub fn started_with(&self, config: &Config) {
        *self.restart_only.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(RestartOnly::of(config));
        self.set_retention(config.storage.retention());
    }

    /// What the daily retention keeps.
    pub fn retention(&self) -> Retention {
        *self.retention.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets what the daily retention keeps (at start and on reload).
    pub fn set_retention(&self, retention: Retention) {
        *self.retention.lock().unwrap_or_else(|p| p.into_inner()) = retention;
    }

    pub fn last_poll(&self) -> Option<DateTime<Utc>> {
        *self.last_poll.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn last_digest(&self) -> Option<DateTime<Utc>> {
        *self.last_digest.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The digest part, if any.
    pub fn digests(&self) -> Option<&digest::Service> {
        self.digests.as_ref()
    }

    /// The digest step: compose what is due, send what is pending; counted in the metrics.
    /// Only a database file deleted or replaced under the service is an error.
    pub async fn digest_once(&self) -> Result<(), StoreError> {
        let Some(d) = &self.digests else {
            return Ok(());
        };
        if let Some(report) = d.tick(Utc::now()).await? {
            for _ in &report.sent {
                self.metrics.record_digest(true);
            }
            for _ in &report.failed {
                self.metrics.record_digest(false);
            }
            for _ in &report.posted {
                self.metrics.record_digest(true);
            }
            for _ in &report.post_failed {
                self.metrics.record_digest(false);
            }
            if !report.sent.is_empty() || !report.posted.is_empty() {
                *self.last_digest.lock().unwrap_or_else(|p| p.into_inner()) = Some(Utc::now());
            }
        }
        Ok(())
    }

    /// One poll of the due feeds, with metrics.
    pub async fn poll_once(&self) -> Result<(), PipelineError> {
        let polled = self
            .pipeline
            .poll(false, |report, _| self.metrics.record_feed(report))
            .await;
        self.metrics
            .set_storage_errors(self.pipeline.storage_health().errors_total);
        let summary = polled?;
        *self.last_poll.lock().unwrap_or_else(|p| p.into_inner()) = Some(Utc::now());
        let failing = self
            .pipeline
            .store()
            .feeds()?
            .iter()
            .filter(|f| f.enabled && f.error_count >= FAILING_AFTER)
            .count();
        self.metrics.set_failing_feeds(failing as i64);
        // Idle until the next poll: give back the cache pages and the heap the poll used.
        if let Err(e) = self.pipeline.store().release_memory() {
            tracing::debug!(error = %e, "could not release SQLite cache memory");
        }
        memory::trim_heap();
        if summary.feeds > 0 {
            tracing::info!(
                feeds = summary.feeds,
                ok = summary.ok,
                failed = summary.failed,
                new_items = summary.new_items,
                "poll finished"
            );
        }
        Ok(())
    }

    /// Re-reads the configuration file: feeds, topic rules, `[fetch]` settings, watch lists and
    /// `[mail]` take effect at once; a broken file is reported and the running one kept; the
    /// log names each changed setting that needs a restart (`storage.database`,
    /// `server.listen`, `server.token`, `server.url`, and the watch lists of the web view served
    /// beside `/health`, which keeps those it started with).
    pub fn reload(&self) {
        let Some(path) = &self.config_path else {
            tracing::info!("reload requested, but the service runs on the embedded defaults");
            return;
        };
        let config = match Config::from_file(path) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "configuration invalid; keeping the running one");
                return;
            }
        };
        if let Err(e) = self.pipeline.reload(&config) {
            tracing::error!(error = %e, "reload failed; keeping the running configuration");
            return;
        }
        self.set_retention(config.storage.retention());
        let mut not_reloaded = Vec::new();
        match &self.digests {
            Some(d) if config.watchlists.is_empty() => d.set_digester(None),
            Some(d) => match digest::Digester::new(&config) {
                Ok(digester) => d.set_digester(Some(digester)),
                Err(e) => {
                    tracing::error!(error = %e, "mail settings invalid; keeping the running watch lists and [mail]");
                    not_reloaded.push("watchlists and [mail] (invalid: see above)".to_string());
                }
            },
            None if !config.watchlists.is_empty() => {
                not_reloaded.push("watchlists (this service started without digests)".into());
            }
            None => {}
        }
        let new = RestartOnly::of(&config);
        {
            let running = self.restart_only.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(old) = running.as_ref() {
                not_reloaded.extend(old.changed(&new));
            }
        }
        if not_reloaded.is_empty() {
            tracing::info!(config = %path.display(), feeds = config.feeds.len(),
                watchlists = config.watchlists.len(),
                "configuration reloaded (feeds, topics, [fetch], watch lists and [mail])");
        } else {
            let needs_restart = not_reloaded.join("; ");
            tracing::warn!(config = %path.display(), feeds = config.feeds.len(),
                watchlists = config.watchlists.len(), needs_restart = %needs_restart,
                "configuration reloaded, except what needs a restart to take effect: {needs_restart}");
        }
    }

    /// What `/health` says: feeds, storage, mail, and an overall status (`ok`, or `degraded`
    /// with every reason listed).
    pub fn health(&self) -> Result<serde_json::Value, StoreError> {
        // Digests sent by `veille digest --send` on the same database count too.
        let (feeds, stored_digest) = {
            let mut own = self.health_store.lock().unwrap_or_else(|p| p.into_inner());
            if own.is_none()
                && let Some(path) = &self.database
            {
                *own = Store::open_read_only(path, HEALTH_BUSY).ok();
            }
            match own.as_mut() {
                Some(store) => (store.feeds()?, store.last_digest_sent_at()?),
                None => {
                    let store = self.pipeline.store();
                    (store.feeds()?, store.last_digest_sent_at()?)
                }
            }
        };
        let enabled: Vec<_> = feeds.iter().filter(|f| f.enabled).collect();
        let failing: Vec<&str> = enabled
            .iter()
            .filter(|f| f.error_count >= FAILING_AFTER)
            .map(|f| f.name.as_str())
            .collect();
        let ok = enabled
            .iter()
            .filter(|f| f.error_count == 0 && f.last_fetch_at.is_some())
            .count();
        let storage = self.pipeline.storage_health();
        let mut reasons = Vec::new();
        if !failing.is_empty() {
            reasons.push(format!(
                "{} failing",
                if failing.len() == 1 {
                    "1 feed".to_string()
                } else {
                    format!("{} feeds", failing.len())
                }
            ));
        }
        if storage.consecutive > 0 {
            reasons.push("storage failing".to_string());
        }
        let article_failures: Vec<serde_json::Value> = enabled
            .iter()
            .filter_map(|f| f.article_trouble().map(|r| (f, r)))
            .map(|(f, r)| {
                serde_json::json!({
                    "feed": f.name, "at": r.at, "pages": r.pages, "failed": r.failed_pages(),
                    "reasons": r.failed,
                })
            })
            .collect();
        let mail = self
            .digests
            .as_ref()
            .map(|d| self.mail_health(d, &mut reasons));
        let webhooks = self
            .digests
            .as_ref()
            .map(|d| self.webhook_health(d, &mut reasons));
        let status = if reasons.is_empty() { "ok" } else { "degraded" };
        let mut body = serde_json::json!({
            "status": status,
            "feeds": {"total": enabled.len(), "ok": ok, "failing": failing.len()},
            "failing_feeds": failing,
            "storage": storage,
            "last_poll": self.last_poll(),
            "last_digest": self.last_digest().max(stored_digest),
            "article_failures": article_failures,
            "uptime_s": self.started.elapsed().as_secs(),
            "version": env!("CARGO_PKG_VERSION"),
        });
        if !reasons.is_empty() {
            body["reasons"] = serde_json::json!(reasons);
        }
        if let Some(mail) = mail {
            body["mail"] = mail;
        }
        if let Some(webhooks) = webhooks {
            body["webhooks"] = webhooks;
        }
        Ok(body)
    }

    /// The webhooks part of `/health`: one entry per watch list with a webhook (and per watch
    /// list whose webhook was removed with deliveries still pending), `idle`, `pending` (a
    /// digest waits for its first post) or `failing` (the endpoint refused the last attempt or
    /// did not answer), with the host only: the URL is a secret.
    fn webhook_health(&self, d: &digest::Service, reasons: &mut Vec<String>) -> serde_json::Value {
        let stored = {
            let own = self.health_store.lock().unwrap_or_else(|p| p.into_inner());
            own.as_ref()
                .and_then(|s| s.webhook_states().ok())
                .unwrap_or_default()
        };
        let configured: Vec<(String, String, Option<&'static str>)> = d
            .digester()
            .map(|dg| {
                dg.watchlists()
                    .iter()
                    .filter_map(|w| {
                        let h = w.webhook.as_ref()?;
                        let host = h.url.host_str().unwrap_or_default().to_string();
                        Some((w.name.clone(), host, Some(h.format.as_str())))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut names: Vec<&str> = configured.iter().map(|c| c.0.as_str()).collect();
        names.extend(
            stored
                .iter()
                .filter(|s| s.pending > 0)
                .map(|s| s.watchlist.as_str()),
        );
        names.sort_unstable();
        names.dedup();
        let entries: Vec<serde_json::Value> = names
            .into_iter()
            .map(|name| {
                let conf = configured.iter().find(|c| c.0 == name);
                let st = stored.iter().find(|s| s.watchlist == name);
                let pending = st.map_or(0, |s| s.pending);
                let last_error = st
                    .filter(|_| pending > 0)
                    .and_then(|s| s.last_error.clone());
                let state = if pending == 0 {
                    "idle"
                } else if last_error.is_some() {
                    reasons.push(format!("webhook of {name} failing"));
                    "failing"
                } else {
                    "pending"
                };
                serde_json::json!({
                    "watchlist": name,
                    "host": conf.map(|c| c.1.clone()).or_else(|| st.map(|s| s.host.clone())),
                    "format": conf.and_then(|c| c.2),
                    "configured": conf.is_some(),
                    "state": state,
                    "pending": pending,
                    "attempts": st.map_or(0, |s| s.attempts),
                    "last_error": last_error,
                    "next_attempt_at": st.and_then(|s| s.next_attempt_at),
                    "last_sent_at": st.and_then(|s| s.last_sent_at),
                })
            })
            .collect();
        serde_json::json!(entries)
    }

    /// The mail part of `/health`: `idle`, `sending`, `stuck` (an attempt has run past
    /// `mail.timeout`) or `failing` (the last attempt failed), with the pending digests.
    fn mail_health(&self, d: &digest::Service, reasons: &mut Vec<String>) -> serde_json::Value {
        let state = d.delivery();
        let timeout = d.digester().map(|dg| dg.timeout());
        let pending = {
            let own = self.health_store.lock().unwrap_or_else(|p| p.into_inner());
            own.as_ref().and_then(|s| s.pending_summary().ok())
        };
        let now = Utc::now();
        let stuck = match (&state.sending, timeout) {
            (Some(s), Some(t)) => {
                let grace = chrono::Duration::from_std(t + Duration::from_secs(5))
                    .unwrap_or(chrono::Duration::MAX);
                now - s.since > grace
            }
            _ => false,
        };
        let label = if stuck {
            reasons.push("mail delivery stuck".into());
            "stuck"
        } else if state.consecutive_failures > 0 {
            reasons.push("mail delivery failing".into());
            "failing"
        } else if state.sending.is_some() {
            "sending"
        } else {
            "idle"
        };
        serde_json::json!({
            "state": label,
            "sending": state.sending,
            "consecutive_failures": state.consecutive_failures,
            "last_error": state.last_error,
            "last_failure_at": state.last_failure_at,
            "last_sent_at": state.last_sent_at,
            "pending": pending.map(|p| p.0),
            "oldest_pending": pending.and_then(|p| p.1),
            "timeout_s": timeout.map(|t| t.as_secs_f64()),
        })
    }
}

/// Runs until a [`Signal::Stop`] arrives on `signals`: every tick, refreshes the due feeds;
/// the digest step runs on the same tick in a task of its own; [`Signal::Reload`] re-reads the
/// configuration. A stop during a poll lets it finish for up to [`SHUTDOWN_GRACE`]; what is
/// abandoned was never half-written (each feed's items are stored in one transaction). A stop
/// during a digest send abandons it: the digest stays pending and goes out, unchanged, once its
/// lease ends. A database file deleted or replaced under the service ends it with that error;
/// other storage errors are counted, shown in `/health`, and retried.
pub async fn run(
    service: &Arc<Service>,
    tick: Duration,
    mut signals: watch::Receiver<Option<Signal>>,
) -> Result<(), PipelineError> {
    let mut ticker = tokio::time::interval(tick);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    tracing::info!(tick_s = tick.as_secs_f64(), "service started");
    let (fatal_tx, mut fatal_rx) = tokio::sync::mpsc::channel::<StoreError>(1);
    let mail = service
        .digests
        .is_some()
        .then(|| tokio::spawn(digest_loop(service.clone(), tick, fatal_tx)));
    let outcome = loop {
        tokio::select! {
            changed = signals.changed() => {
                let signal = if changed.is_err() { Some(Signal::Stop) } else { *signals.borrow_and_update() };
                match signal {
                    Some(Signal::Stop) => break Ok(()),
                    Some(Signal::Reload) => service.reload(),
                    None => {}
                }
            }
            Some(e) = fatal_rx.recv() => break Err(PipelineError::Store(e)),
            _ = ticker.tick() => {
                if let Err(e) = service.pipeline.store().check_file() {
                    break Err(PipelineError::Store(e));
                }
                let mut reload = false;
                let poll = service.poll_once();
                tokio::pin!(poll);
                match until_stopped(poll.as_mut(), &mut signals, &mut reload).await {
                    Some(Ok(())) => {}
                    Some(Err(PipelineError::Store(e))) if e.is_fatal() => {
                        break Err(PipelineError::Store(e));
                    }
                    Some(Err(e)) => {
                        tracing::error!(error = %e, "poll failed; trying again on the next tick");
                    }
                    None => {
                        tracing::info!(grace_s = SHUTDOWN_GRACE.as_secs(), "stop requested; finishing in-flight fetches");
                        if tokio::time::timeout(SHUTDOWN_GRACE, poll).await.is_err() {
                            tracing::warn!("in-flight fetches abandoned at shutdown");
                        }
                        break Ok(());
                    }
                }
                if reload {
                    service.reload();
                }
            }
        }
    };
    if let Some(mail) = mail {
        mail.abort();
        if mail.await.is_err() {
            tracing::info!(
                "stopped during the digest step; pending digests go out on the next start"
            );
        }
    }
    match &outcome {
        Ok(()) => tracing::info!("service stopped"),
        Err(e) => tracing::error!(error = %e, "service stopped"),
    }
    outcome
}

/// The digest step on every tick, apart from polling: a slow or silent mail server holds up
/// nothing else. Ends when the database file is no longer the one opened.
async fn digest_loop(
    service: Arc<Service>,
    tick: Duration,
    fatal: tokio::sync::mpsc::Sender<StoreError>,
) {
    let mut ticker = tokio::time::interval(tick);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    loop {
        ticker.tick().await;
        if let Err(e) = service.digest_once().await {
            let _ = fatal.send(e).await;
            return;
        }
    }
}

/// Drives `work` to completion unless a stop is signalled first (then `None`); a reload asked
/// for meanwhile is remembered in `reload`, not lost.
async fn until_stopped<F: std::future::Future>(
    mut work: std::pin::Pin<&mut F>,
    signals: &mut watch::Receiver<Option<Signal>>,
    reload: &mut bool,
) -> Option<F::Output> {
    loop {
        tokio::select! {
            out = &mut work => return Some(out),
            changed = signals.changed() => {
                let signal = if changed.is_err() { Some(Signal::Stop) } else { *signals.borrow_and_update() };
                match signal {
                    Some(Signal::Stop) => return None,
                    Some(Signal::Reload) => *reload = true,
                    None => {}
                }
            }
        }
    }
}

/// Resolves when a stop is signalled.
async fn wait_for_stop(signals: &mut watch::Receiver<Option<Signal>>) {
    loop {
        if signals.changed().await.is_err() {
            return;
        }
        if *signals.borrow_and_update() == Some(Signal::Stop) {
            return;
        }
    }
}

/// Turns process signals into [`Signal`]s: Ctrl-C and SIGTERM stop, SIGHUP reloads.
pub fn process_signals() -> watch::Receiver<Option<Signal>> {
    let (tx, rx) = watch::channel(None);
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut term), Ok(mut hup)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::hangup()),
            ) else {
                tracing::error!("cannot install signal handlers");
                return;
            };
            loop {
                let sig = tokio::select! {
                    _ = tokio::signal::ctrl_c() => { tracing::info!("received Ctrl-C"); Signal::Stop }
                    _ = term.recv() => { tracing::info!("received SIGTERM"); Signal::Stop }
                    _ = hup.recv() => { tracing::info!("received SIGHUP"); Signal::Reload }
                };
                if tx.send(Some(sig)).is_err() || sig == Signal::Stop {
                    return;
                }
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            let _ = tx.send(Some(Signal::Stop));
        }
    });
    rx
}

/// The daily retention of `veille run`, on its own connection to `database` so that polls and
/// digests go on while it works (it takes the write lock one short batch at a time). Runs when
/// retention last ran a day ago or more (at once on a database never pruned), then every day;
/// a stop signal ends it between two batches.
pub fn spawn_retention(
    service: Arc<Service>,
    database: PathBuf,
    mut signals: watch::Receiver<Option<Signal>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let stop = Arc::new(AtomicBool::new(false));
        let mut store = None;
        loop {
            let (opened, last) = match tokio::task::spawn_blocking({
                let database = database.clone();
                move || -> Result<(Store, Option<DateTime<Utc>>), crate::error::StoreError> {
                    let s = match store {
                        Some(s) => s,
                        None => Store::open(&database)?,
                    };
                    let last = s.last_prune()?;
                    Ok((s, last))
                }
            })
            .await
            {
                Ok(Ok(done)) => done,
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "retention cannot read the database; trying again in an hour");
                    store = None;
                    if sleep_or_stop(Duration::from_secs(3600), &mut signals).await {
                        return;
                    }
                    continue;
                }
                Err(_) => return,
            };
            let now = Utc::now();
            let next = retention::next_run(last, now);
            let wait = (next - now).to_std().unwrap_or_default();
            if sleep_or_stop(wait, &mut signals).await {
                return;
            }
            let keep = service.retention();
            if keep.is_forever() {
                store = Some(opened);
                if sleep_or_stop(retention::EVERY, &mut signals).await {
                    return;
                }
                continue;
            }
            let flag = stop.clone();
            let mut work = tokio::task::spawn_blocking(move || {
                let mut s = opened;
                let r = retention::run(&mut s, &keep, Utc::now(), false, &flag);
                (s, r)
            });
            let finished = tokio::select! {
                done = &mut work => done,
                _ = wait_for_stop(&mut signals) => {
                    stop.store(true, Ordering::Relaxed);
                    let _ = work.await;
                    return;
                }
            };
            match finished {
                Ok((s, Ok(_))) => store = Some(s),
                Ok((_, Err(e))) => {
                    tracing::error!(error = %e, "retention failed; trying again in an hour");
                    store = None;
                    if sleep_or_stop(Duration::from_secs(3600), &mut signals).await {
                        return;
                    }
                }
                Err(_) => return,
            }
        }
    })
}

/// Sleeps for `d` unless a stop comes first (then `true`).
async fn sleep_or_stop(d: Duration, signals: &mut watch::Receiver<Option<Signal>>) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => false,
        _ = wait_for_stop(signals) => true,
    }
}

/// Resolves once a stop is signalled on `signals` (for servers that shut down with the service).
pub async fn stopped(mut signals: watch::Receiver<Option<Signal>>) {
    wait_for_stop(&mut signals).await
}

/// Builds the service's shared state for `run`.
pub fn service(
    pipeline: Pipeline,
    config_path: Option<PathBuf>,
    digests: Option<digest::Service>,
) -> Arc<Service> {
    Arc::new(Service::new(pipeline, config_path, digests))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn config(toml: &str) -> Config {
        Config::from_str(toml, Path::new("veille.toml")).unwrap()
    }

    #[test]
    fn a_reload_names_the_web_view_settings_that_need_a_restart_and_never_the_token() {
        let running = RestartOnly::of(&config(
            "[server]\nlisten = \"127.0.0.1:9187\"\ntoken = \"first-secret-token-0001\"\n\
             [[watchlists]]\nname = \"w\"\ntopics = [\"eu-us-cyber\"]\nrecipients = [\"a@example.org\"]\nschedule = \"0 8 * * *\"\n",
        ));
        let same = RestartOnly::of(&config(
            "[server]\nlisten = \"127.0.0.1:9187\"\ntoken = \"first-secret-token-0001\"\n\
             [[watchlists]]\nname = \"w\"\ntopics = [\"eu-us-cyber\"]\nrecipients = [\"b@example.org\"]\nschedule = \"0 9 * * *\"\n",
        ));
        assert!(
            running.changed(&same).is_empty(),
            "recipients and schedule are reloaded"
        );
        let changed = RestartOnly::of(&config(
            "[server]\nlisten = \"127.0.0.1:9187\"\ntoken = \"second-secret-token-02\"\nurl = \"https://veille.example.org/\"\n\
             [[watchlists]]\nname = \"w\"\ntopics = [\"eu-nato-cyber\"]\nrecipients = [\"a@example.org\"]\nschedule = \"0 8 * * *\"\n",
        ));
        let keys = running.changed(&changed).join("; ");
        assert_eq!(
            keys,
            "server.token (changed); server.url (none → https://veille.example.org/); \
             watchlists as the web view shows them (the digests use the new ones)"
        );
        assert!(!format!("{running:?}").contains("secret"), "{running:?}");
    }
}
