//! The analyst web view: server-rendered pages over the database (matches, one item, search,
//! feeds, digests), Atom feeds of the watch lists, and judgements — the one thing it writes.
//!
//! Handlers live in [`pages`], their HTML in [`templates`] (maud: compiled, every value escaped
//! unless marked otherwise), request guards (token, CSRF, security headers) in [`auth`]. Pages
//! work without JavaScript; none is served. Served alone by `veille serve`, and beside
//! `/health` and `/metrics` on `veille run`'s `[server] listen`.

pub mod auth;
pub mod highlight;
mod mail;
mod pages;
pub mod query;
mod templates;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::config::Config;
use crate::digest::config::Watchlist;
use crate::error::{ConfigError, StoreError};
use crate::links::Key;
use crate::pipeline::classify::Classifier;
use crate::store::Store;

/// Database connections kept open between requests.
const POOL: usize = 8;

/// Why the web view could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Rules(#[from] ConfigError),
}

/// What every handler shares.
pub struct State {
    database: PathBuf,
    pool: Mutex<Vec<Store>>,
    classifier: Classifier,
    watchlists: Vec<Watchlist>,
    key: Key,
    /// The token pages ask for; `None` on loopback without one.
    token: Option<String>,
    /// The configured public address, else links are made from the request's Host.
    url: Option<url::Url>,
}

impl State {
    /// Runs `work` with a database connection on the blocking pool.
    async fn db<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, PageError> {
        let state = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let taken = state.pool.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let mut store = match taken {
                Some(s) => s,
                None => Store::open(&state.database)?,
            };
            let out = work(&mut store);
            let mut pool = state.pool.lock().unwrap_or_else(|p| p.into_inner());
            if pool.len() < POOL {
                pool.push(store);
            }
            out
        })
        .await
        .map_err(|e| PageError::Internal(format!("database task failed: {e}")))?
        .map_err(PageError::from)
    }

    /// Topic ids of the rules, in rule-file order.
    fn topics(&self) -> Vec<String> {
        self.classifier
            .topic_ids()
            .into_iter()
            .map(str::to_string)
            .collect()
    }
}

/// A page that could not be served, as the person sees it.
#[derive(Debug)]
pub enum PageError {
    BadRequest(String),
    NotFound(String),
    Forbidden(String),
    Internal(String),
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        PageError::Internal(e.to_string())
    }
}

impl From<query::BadQuery> for PageError {
    fn from(e: query::BadQuery) -> Self {
        PageError::BadRequest(e.0)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            PageError::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            PageError::NotFound(m) => (StatusCode::NOT_FOUND, m),
            PageError::Forbidden(m) => (StatusCode::FORBIDDEN, m),
            PageError::Internal(m) => {
                tracing::error!(error = %m, "web view request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the server could not answer; the error is in its log".to_string(),
                )
            }
        };
        (status, templates::error::page(status, &message)).into_response()
    }
}

/// The web view's routes over the configuration's database, rules and watch lists.
pub fn router(config: &Config) -> Result<Router, WebError> {
    let mut store = Store::open(&config.storage.database)?;
    let key = Key::load(&mut store)?;
    let state = Arc::new(State {
        database: config.storage.database.clone(),
        pool: Mutex::new(vec![store]),
        classifier: Classifier::load(&config.classifier.topics_dir)?,
        watchlists: config.watchlists.clone(),
        key,
        token: config.server.token.clone(),
        url: config.server.url.clone(),
    });
    Ok(pages::routes(state))
}

/// Binds `listen` and serves `app` until `shutdown` resolves, with the service listener's
/// protections (header timeout, connection limit, connection lifetime: see
/// [`crate::service::http`]); returns the bound address.
pub async fn serve(
    listen: SocketAddr,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<(
    SocketAddr,
    impl std::future::Future<Output = std::io::Result<()>>,
)> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    Ok((addr, crate::service::http::serve(listener, app, shutdown)))
}
