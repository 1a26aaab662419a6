//! The health and metrics endpoint: `GET /health` (JSON) and `GET /metrics` (Prometheus text).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::Service;
use crate::pipeline::schedule::FAILING_AFTER;

/// Binds `listen` (port 0 picks a free port) and returns the bound address and the server future.
pub async fn bind(
    listen: SocketAddr,
    service: Arc<Service>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<(
    SocketAddr,
    impl std::future::Future<Output = std::io::Result<()>>,
)> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let app = Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .with_state(service);
    let server = axum::serve(listener, app).with_graceful_shutdown(shutdown);
    Ok((addr, async move { server.await }))
}

async fn health(State(service): State<Arc<Service>>) -> Response {
    let feeds = match service.pipeline.store().feeds() {
        Ok(f) => f,
        Err(e) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({"status": "error", "error": e.to_string()})),
            )
                .into_response();
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
    let status = if failing.is_empty() { "ok" } else { "degraded" };
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
    // Digests sent by `veille digest --send` on the same database count too.
    let stored_digest = service
        .pipeline
        .store()
        .last_digest_sent_at()
        .ok()
        .flatten();
    let last_digest = service.last_digest().max(stored_digest);
    let body = serde_json::json!({
        "status": status,
        "feeds": {"total": enabled.len(), "ok": ok, "failing": failing.len()},
        "failing_feeds": failing,
        "last_poll": service.last_poll(),
        "last_digest": last_digest,
        "article_failures": article_failures,
        "uptime_s": service.started.elapsed().as_secs(),
        "version": env!("CARGO_PKG_VERSION"),
    });
    axum::Json(body).into_response()
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
