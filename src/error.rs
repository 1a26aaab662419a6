//! Error types of the library: failures are values, each saying what went wrong and where.

use std::path::PathBuf;

/// Why fetching a URL failed.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum FetchError {
    #[error("HTTP status {status}")]
    Status { status: u16 },
    #[error("response body exceeds the cap of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("timed out after {seconds:.0} s")]
    Timeout { seconds: f64 },
    #[error("too many redirects (more than {limit})")]
    TooManyRedirects { limit: usize },
    #[error("connection failed: {0}")]
    Connect(String),
    #[error("request failed: {0}")]
    Other(String),
    /// The SSRF guard refused an untrusted URL (an article link found inside a feed).
    #[error(
        "blocked: {url} resolves to {addr}, a loopback, private or reserved address (set [fetch] allow_private_networks = true to allow)"
    )]
    Blocked { url: String, addr: std::net::IpAddr },
}

impl FetchError {
    /// The HTTP status, when the server answered with one.
    pub fn status(&self) -> Option<u16> {
        match self {
            FetchError::Status { status } => Some(*status),
            _ => None,
        }
    }
}

/// Why a feed document could not be parsed.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum ParseError {
    #[error("not a feed: {0}")]
    NotAFeed(String),
    #[error("empty document")]
    Empty,
}

/// A storage failure, with the database path when known.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("cannot create the database directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("database {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("database migration {name} failed: {source}")]
    Migration {
        name: &'static str,
        source: rusqlite::Error,
    },
    #[error(
        "the database is at schema version {found}, newer than this veille knows ({known}); upgrade veille"
    )]
    TooNew { found: i64, known: i64 },
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
    #[error("stored JSON is invalid: {0}")]
    Json(#[from] serde_json::Error),
}
