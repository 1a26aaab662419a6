//! The service's listener: `GET /health` (JSON) and `GET /metrics` (Prometheus text), and the
//! routes given beside them (the analyst web view, which `veille serve` also serves alone
//! through [`serve`]).
//!
//! It is exposed to whatever can reach it, so it holds its ground: a client has
//! [`HEADER_TIMEOUT`] to send a request's headers (and as long between two requests on a
//! kept-alive connection), at most [`MAX_CONNECTIONS`] connections are served at once (more are
//! closed as soon as they are accepted), and no connection lives longer than
//! [`MAX_CONNECTION_LIFETIME`]. At shutdown, requests under way may finish for
//! [`DRAIN_TIMEOUT`]. `/health` reads through its own read-only database connection, so it
//! answers while a write waits for a lock.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::Service;

/// How long a client may take to send a request's headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections served at once; a connection beyond is closed as soon as it is accepted.
pub const MAX_CONNECTIONS: usize = 64;
/// The longest one connection stays open, whatever it does.
pub const MAX_CONNECTION_LIFETIME: Duration = Duration::from_secs(60);
/// How long requests under way at shutdown may take to finish.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Binds `listen` (port 0 picks a free port) and returns the bound address and the server future;
/// `extra` routes (the web view) are served beside health and metrics.
pub async fn bind(
    listen: SocketAddr,
    service: Arc<Service>,
    extra: Option<Router>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<(
    SocketAddr,
    impl std::future::Future<Output = std::io::Result<()>>,
)> {
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let app = Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .with_state(service);
    let app = match extra {
        Some(routes) => app.merge(routes),
        None => app,
    };
    Ok((addr, serve(listener, app, shutdown)))
}

/// Accepts connections until `shutdown`, each served on its own task under the limits above;
/// then closes idle connections and lets requests under way finish, for at most
/// [`DRAIN_TIMEOUT`].
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut refused: u64 = 0;
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors, most likely: wait a little rather than spin.
                    tracing::warn!(error = %e, "http server: accept failed");
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    continue;
                }
            },
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            refused += 1;
            if refused.is_power_of_two() {
                tracing::warn!(
                    refused,
                    max_connections = MAX_CONNECTIONS,
                    "http server: connection limit reached; closing new connections"
                );
            }
            drop(stream);
            continue;
        };
        let (app, mut stopped) = (app.clone(), stopped.clone());
        tokio::spawn(async move {
            let _slot = slot;
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(
                    hyper_util::rt::TokioIo::new(stream),
                    hyper_util::service::TowerToHyperService::new(app),
                );
            tokio::pin!(conn);
            let served = tokio::time::timeout(MAX_CONNECTION_LIFETIME, async {
                let mut stopping = false;
                loop {
                    tokio::select! {
                        result = conn.as_mut() => break result,
                        // Finish the request under way, if any, then close.
                        _ = stopped.changed(), if !stopping => {
                            stopping = true;
                            conn.as_mut().graceful_shutdown();
                        }
                    }
                }
            });
            if let Ok(Err(e)) = served.await {
                tracing::debug!(error = %e, "http server: connection ended with an error");
            }
        });
    }
    drop(listener);
    let _ = stop.send(true);
    let all = u32::try_from(MAX_CONNECTIONS).unwrap_or(u32::MAX);
    if tokio::time::timeout(DRAIN_TIMEOUT, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!(
            drain_timeout_ms = DRAIN_TIMEOUT.as_millis() as u64,
            "http server: requests still under way at shutdown were cut"
        );
    }
    Ok(())
}

async fn health(State(service): State<Arc<Service>>) -> Response {
    match service.health() {
        Ok(report) => {
            let code = StatusCode::OK;
            (code, axum::Json(report)).into_response()
        }
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({"status": "error", "error": e.to_string()})),
        )
            .into_response(),
    }
}

async fn metrics(State(service): State<Arc<Service>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        service.metrics.encode(),
    )
        .into_response()
}
