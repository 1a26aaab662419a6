//! The long-running service: poll feeds as they fall due, send digests on their schedules,
//! reload the configuration on SIGHUP, serve health and metrics, stop cleanly on SIGINT/SIGTERM.

pub mod http;
pub mod memory;
pub mod metrics;
pub mod retention;
pub mod schedule;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tokio::time::MissedTickBehavior;

use crate::config::Config;
use crate::digest;
use crate::pipeline::{Pipeline, PipelineError};
use crate::store::{Retention, Store};
use metrics::Metrics;
use schedule::FAILING_AFTER;

/// How often the service looks for due feeds (a cheap query).
pub const TICK: Duration = Duration::from_secs(15);
/// How long in-flight work may finish after a stop signal before it is abandoned.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The running service's shared state: the pipeline, its metrics and what it last did.
pub struct Service {
    pub pipeline: Pipeline,
    pub metrics: Metrics,
    /// The configuration file to re-read on reload (`None`: embedded defaults, nothing to re-read).
    pub config_path: Option<PathBuf>,
    /// The digest step, when watch lists are configured (its own database connection).
    digests: tokio::sync::Mutex<Option<digest::Service>>,
    started: Instant,
    last_poll: Mutex<Option<DateTime<Utc>>>,
    last_digest: Mutex<Option<DateTime<Utc>>>,
    /// What the daily retention keeps (`[storage]`, follows reloads); forever until set.
    retention: Mutex<Retention>,
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
        Service {
            pipeline,
            metrics: Metrics::new(),
            config_path,
            digests: tokio::sync::Mutex::new(digests),
            started: Instant::now(),
            last_poll: Mutex::new(None),
            last_digest: Mutex::new(None),
            retention: Mutex::new(Retention::default()),
        }
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

    /// The digest step: compose what is due, send what is pending; counted in the metrics.
    pub async fn digest_once(&self) {
        let mut digests = self.digests.lock().await;
        let Some(d) = digests.as_mut() else {
            return;
        };
        if let Some(report) = d.tick(Utc::now()).await {
            for _ in &report.sent {
                self.metrics.record_digest(true);
            }
            for _ in &report.failed {
                self.metrics.record_digest(false);
            }
            if !report.sent.is_empty() {
                *self.last_digest.lock().unwrap_or_else(|p| p.into_inner()) = Some(Utc::now());
            }
        }
    }

    /// One poll of the due feeds, with metrics.
    pub async fn poll_once(&self) -> Result<(), PipelineError> {
        let summary = self
            .pipeline
            .poll(false, |report, _| self.metrics.record_feed(report))
            .await?;
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

    /// Re-reads the configuration file; a broken file is reported and the running one kept.
    pub fn reload(&self) {
        let Some(path) = &self.config_path else {
            tracing::info!("reload requested, but the service runs on the embedded defaults");
            return;
        };
        match Config::from_file(path) {
            Ok(config) => match self.pipeline.reload(&config) {
                Ok(()) => {
                    self.set_retention(config.storage.retention());
                    tracing::info!(config = %path.display(), feeds = config.feeds.len(), "configuration reloaded")
                }
                Err(e) => {
                    tracing::error!(error = %e, "reload failed; keeping the running configuration")
                }
            },
            Err(e) => tracing::error!(error = %e, "configuration invalid; keeping the running one"),
        }
    }
}

/// Runs until a [`Signal::Stop`] arrives on `signals`: every tick, refreshes the due feeds, then
/// runs the digest step; [`Signal::Reload`] re-reads the configuration. A stop during a poll lets
/// it finish for up to [`SHUTDOWN_GRACE`]; what is abandoned was never half-written (each feed's
/// items are stored in one transaction). A stop during a digest send abandons it: the digest
/// stays pending and goes out, unchanged, on the next start.
pub async fn run(
    service: &Service,
    tick: Duration,
    mut signals: watch::Receiver<Option<Signal>>,
) -> Result<(), PipelineError> {
    let mut ticker = tokio::time::interval(tick);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    tracing::info!(tick_s = tick.as_secs_f64(), "service started");
    loop {
        tokio::select! {
            changed = signals.changed() => {
                let signal = if changed.is_err() { Some(Signal::Stop) } else { *signals.borrow_and_update() };
                match signal {
                    Some(Signal::Stop) => break,
                    Some(Signal::Reload) => service.reload(),
                    None => {}
                }
            }
            _ = ticker.tick() => {
                let mut reload = false;
                let poll = service.poll_once();
                tokio::pin!(poll);
                match until_stopped(poll.as_mut(), &mut signals, &mut reload).await {
                    Some(res) => res?,
                    None => {
                        tracing::info!(grace_s = SHUTDOWN_GRACE.as_secs(), "stop requested; finishing in-flight fetches");
                        if tokio::time::timeout(SHUTDOWN_GRACE, poll).await.is_err() {
                            tracing::warn!("in-flight fetches abandoned at shutdown");
                        }
                        break;
                    }
                }
                let digest = service.digest_once();
                tokio::pin!(digest);
                if until_stopped(digest, &mut signals, &mut reload).await.is_none() {
                    tracing::info!("stop requested during the digest step; pending digests go out on the next start");
                    break;
                }
                if reload {
                    service.reload();
                }
            }
        }
    }
    tracing::info!("service stopped");
    Ok(())
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
