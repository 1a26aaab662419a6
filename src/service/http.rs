//! The health and metrics endpoint: `GET /health` (JSON) and `GET /metrics` (Prometheus text).
//!
//! It is exposed to whatever can reach it, so it holds its ground: a client has
//! [`HEADER_TIMEOUT`] to send a request's headers (and as long between two requests on a
//! kept-alive connection), at most [`MAX_CONNECTIONS`] connections are served at once (more are
//! closed as soon as they are accepted), and no connection lives longer than
//! [`MAX_CONNECTION_LIFETIME`]. `/health` reads through its own read-only database connection,
//! so it answers while a write waits for a lock.

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

/// Binds `listen` (port 0 picks a free port) and returns the bound address and the server future.
pub async fn bind(
    listen: SocketAddr,
    service: Arc<Service>,
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
    Ok((addr, serve(listener, app, shutdown)))
}

/// Accepts connections until `shutdown`, each served on its own task under the limits above.
async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut refused: u64 = 0;
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors, most likely: wait a little rather than spin.
                    tracing::warn!(error = %e, "health server: accept failed");
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
                    "health server: connection limit reached; closing new connections"
                );
            }
            drop(stream);
            continue;
        };
        let app = app.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(
                    hyper_util::rt::TokioIo::new(stream),
                    hyper_util::service::TowerToHyperService::new(app),
                );
            if let Ok(Err(e)) = tokio::time::timeout(MAX_CONNECTION_LIFETIME, conn).await {
                tracing::debug!(error = %e, "health server: connection ended with an error");
            }
        });
    }
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
