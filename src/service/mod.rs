//! The long-running service: poll feeds as they fall due, and send digests on their
//! schedules, until asked to stop.

pub mod schedule;

use std::time::Duration;

use tokio::time::MissedTickBehavior;

use crate::digest;
use crate::pipeline::{Pipeline, PipelineError};

/// How often the service looks for due feeds (a cheap query).
pub const TICK: Duration = Duration::from_secs(15);
/// How long in-flight work may finish after a stop signal before it is abandoned.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Runs until `shutdown` resolves: every tick, refreshes the due feeds. A stop signal during a
/// poll lets it finish for up to [`SHUTDOWN_GRACE`]; what is abandoned was never half-written
/// (each feed's items are stored in one transaction).
pub async fn run(
    pipeline: &Pipeline,
    tick: Duration,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), PipelineError> {
    run_with_digests(pipeline, None, tick, shutdown).await
}

/// [`run`], and after each poll a digest step: digests whose fire time has come are composed and
/// every pending digest whose attempt is due is sent. A stop signal during a send abandons it;
/// the digest stays pending and goes out, unchanged, on the next start.
pub async fn run_with_digests(
    pipeline: &Pipeline,
    mut digests: Option<digest::Service>,
    tick: Duration,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), PipelineError> {
    let mut ticker = tokio::time::interval(tick);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    tokio::pin!(shutdown);
    tracing::info!(tick_s = tick.as_secs(), "service started");
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            _ = ticker.tick() => {
                let poll = pipeline.poll(false, |_, _| {});
                tokio::pin!(poll);
                tokio::select! {
                    res = &mut poll => {
                        let summary = res?;
                        if summary.feeds > 0 {
                            tracing::info!(feeds = summary.feeds, ok = summary.ok, failed = summary.failed,
                                new_items = summary.new_items, "poll finished");
                        }
                    }
                    _ = &mut shutdown => {
                        tracing::info!(grace_s = SHUTDOWN_GRACE.as_secs(), "stop requested; finishing in-flight fetches");
                        if tokio::time::timeout(SHUTDOWN_GRACE, &mut poll).await.is_err() {
                            tracing::warn!("in-flight fetches abandoned at shutdown");
                        }
                        break;
                    }
                }
                if let Some(d) = digests.as_mut() {
                    tokio::select! {
                        _ = d.tick(chrono::Utc::now()) => {}
                        _ = &mut shutdown => {
                            tracing::info!("stop requested during the digest step; pending digests go out on the next start");
                            break;
                        }
                    }
                }
            }
        }
    }
    tracing::info!("service stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("received Ctrl-C"),
        _ = term => tracing::info!("received SIGTERM"),
    }
}
