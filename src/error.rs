//! Error types of the library: failures are values, each saying what went wrong and where.

use std::fmt;
use std::path::{Path, PathBuf};

/// Why fetching a URL failed.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum FetchError {
    #[error("HTTP status {status}")]
    Status { status: u16 },
    #[error("response body exceeds the cap of {limit} bytes")]
    TooLarge { limit: u64 },
    /// `fetch.timeout` fired: the whole request, sending it to the body's last byte.
    #[error(
        "timed out after {} (fetch.timeout: no complete response in that time)",
        humantime::format_duration(*after)
    )]
    Timeout { after: std::time::Duration },
    /// `fetch.connect_timeout` fired: no connection in that time.
    #[error(
        "connect timed out after {} (fetch.connect_timeout)",
        humantime::format_duration(*after)
    )]
    ConnectTimeout { after: std::time::Duration },
    #[error("too many redirects (more than {limit})")]
    TooManyRedirects { limit: usize },
    #[error("connection failed: {0}")]
    Connect(String),
    #[error("request failed: {0}")]
    Other(String),
    /// The SSRF guard refused a URL that came from fetched content (an article link, a next page
    /// or a redirect off the configured source's origin).
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
    /// The document holds items that could not be read: never reported as an empty success.
    #[error("the document holds {held} <item>/<entry> elements but none could be read: {reason}")]
    NoItems { held: usize, reason: String },
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
    #[error(
        "the database file {path} was {} while veille was running; stopping rather than write where nobody reads (a fresh database would mail stored items again): put the file back and start veille again",
        if *replaced { "replaced by another file" } else { "deleted" }
    )]
    Gone { path: PathBuf, replaced: bool },
    #[error(
        "the database {path} cannot be written: check the permissions of the file and its directory, and that the file system is not read-only"
    )]
    ReadOnly {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
    #[error("stored JSON is invalid: {0}")]
    Json(#[from] serde_json::Error),
}

impl StoreError {
    /// Whether the service must stop: its database is no longer the file it opened.
    pub fn is_fatal(&self) -> bool {
        matches!(self, StoreError::Gone { .. })
    }
}

/// A configuration error, located in its file.
#[derive(Debug, thiserror::Error)]
pub struct ConfigError {
    pub path: PathBuf,
    /// 1-based line and column, when known.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// The key concerned, as a dotted path or the bare key name, when known.
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        write!(f, ": ")?;
        if let Some(key) = &self.key {
            write!(f, "key `{key}`: ")?;
        }
        write!(f, "{}", self.message)
    }
}

/// Builds an error located at byte offset `at` of `text`, naming the key written on that line.
pub(crate) fn located(path: &Path, text: &str, at: Option<usize>, message: String) -> ConfigError {
    let (line, column, key) = match at {
        Some(at) => {
            let at = at.min(text.len());
            let before = &text[..at];
            let line = before.matches('\n').count() + 1;
            let line_start = before.rfind('\n').map_or(0, |i| i + 1);
            let column = before[line_start..].chars().count() + 1;
            let line_text = text[line_start..].lines().next().unwrap_or("");
            let key = line_text
                .split_once('=')
                .map(|(k, _)| k.trim().trim_matches('"').to_string())
                .filter(|k| !k.is_empty() && !k.starts_with('['));
            (Some(line), Some(column), key)
        }
        None => (None, None, None),
    };
    ConfigError {
        path: path.to_path_buf(),
        line,
        column,
        key,
        message,
    }
}
