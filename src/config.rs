//! Configuration: TOML → typed, validated [`Config`], with errors that name file, line and key.
//!
//! Paths inside the file are relative to the file itself. When no file is given and
//! `config/veille.toml` does not exist, the defaults embedded in the binary are used as if they
//! were a file at `./config/veille.toml`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_spanned::Spanned;
use url::Url;

use crate::duration::{self, HumanDuration, duration_in};
pub use crate::error::ConfigError;
pub(crate) use crate::error::located;

/// The default configuration shipped in `config/veille.toml`, embedded at build time.
pub const DEFAULT_CONFIG: &str = include_str!("../config/veille.toml");
/// Where the default configuration lives, relative to the working directory.
pub const DEFAULT_CONFIG_PATH: &str = "config/veille.toml";

/// The whole configuration after validation.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file this came from (or the virtual path of the embedded defaults).
    pub path: PathBuf,
    /// No file was read: these are the defaults embedded in the binary (`path` names no file).
    pub embedded: bool,
    pub storage: Storage,
    pub fetch: FetchSettings,
    pub classifier: ClassifierSettings,
    pub server: ServerSettings,
    pub feeds: Vec<FeedConfig>,
    /// Digest watch lists (`[[watchlists]]` here and in `watchlists/*.toml`).
    pub watchlists: Vec<crate::digest::config::Watchlist>,
    /// How digests are mailed (`[mail]`).
    pub mail: crate::digest::config::MailSettings,
    /// Each feed's `category` (a label such as `EU agencies` or `Press/Council`, kept through
    /// OPML import and export), by feed name.
    pub categories: std::collections::BTreeMap<String, String>,
}

/// The optional listener of `veille run`: health, metrics and the analyst web view.
#[derive(Clone, Default)]
pub struct ServerSettings {
    /// Where `/health`, `/metrics` and the web view listen; `None` runs no server.
    pub listen: Option<std::net::SocketAddr>,
    /// The secret the web view asks for (`token`, or read from `token_file`); required for any
    /// listen address other than loopback.
    pub token: Option<String>,
    /// The web view's address as readers reach it (links in digests and Atom feeds), ending in
    /// `/`; `None`: `http://{listen}/` when that is a usable address, else no links.
    pub url: Option<Url>,
}

impl std::fmt::Debug for ServerSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerSettings")
            .field("listen", &self.listen)
            .field("token", &self.token.as_ref().map(|_| "(set)"))
            .field("url", &self.url)
            .finish()
    }
}

/// The shortest token accepted.
pub const MIN_TOKEN_CHARS: usize = 16;

impl ServerSettings {
    /// The web view's base URL for links readers follow, if one is known.
    pub fn public_url(&self) -> Option<Url> {
        self.url.clone().or_else(|| {
            let l = self.listen?;
            (!l.ip().is_unspecified() && l.port() != 0)
                .then(|| Url::parse(&format!("http://{l}/")).ok())
                .flatten()
        })
    }

    /// Why `listen` may not be served as configured: an address other than loopback without a
    /// token.
    pub fn exposure_error(listen: std::net::SocketAddr, token: Option<&str>) -> Option<String> {
        (!listen.ip().is_loopback() && token.is_none()).then(|| {
            format!(
                "listening on {listen} (not loopback) exposes the web view: set `token` or `token_file` in [server] (at least {MIN_TOKEN_CHARS} characters, e.g. from `openssl rand -hex 24`), or listen on 127.0.0.1"
            )
        })
    }
}

#[derive(Debug, Clone)]
pub struct Storage {
    /// Absolute or config-relative path already resolved against the config directory.
    pub database: PathBuf,
    /// How long an item that matched no topic is kept (`None`: forever).
    pub keep_items: Option<Duration>,
    /// How long an item that matched a topic is kept (`None`: forever, the default).
    pub keep_matches: Option<Duration>,
}

impl Storage {
    /// What retention keeps: items judged or carried by a digest are always kept.
    pub fn retention(&self) -> crate::store::Retention {
        crate::store::Retention {
            keep_items: self.keep_items,
            keep_matches: self.keep_matches,
        }
    }
}

/// How feeds and pages are fetched.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchSettings {
    pub user_agent: String,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub max_body_bytes: u64,
    pub max_redirects: usize,
    /// Requests in flight at once, over all hosts.
    pub concurrency: usize,
    /// Requests in flight at once to one host.
    pub per_host: usize,
    /// Minimum time between the starts of two requests to one host.
    pub per_host_delay: Duration,
    /// Items taken from one feed document (the newest); the rest are ignored.
    pub max_items_per_feed: usize,
    /// Lets article links inside feeds reach loopback and private addresses (SSRF guard off).
    pub allow_private_networks: bool,
}

#[derive(Debug, Clone)]
pub struct ClassifierSettings {
    /// Directory holding `*.toml` topic rule files.
    pub topics_dir: PathBuf,
}

/// One feed to poll.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedConfig {
    pub name: String,
    pub url: Url,
    pub every: Duration,
    pub language: Option<String>,
    pub enabled: bool,
    /// When to fetch each new item's article page.
    pub fetch_article: FetchArticle,
    /// CSS selector of the article content on this feed's pages (generic extractor otherwise).
    pub content_selector: Option<String>,
    /// CSS selectors of elements to drop from this feed's pages before extraction.
    pub remove_selectors: Vec<String>,
    /// What the URL serves and how to read it (`kind` with `[feeds.html]` / `[feeds.json]`).
    pub source: crate::pipeline::sources::Source,
}

/// When a new item's article page is fetched and extracted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FetchArticle {
    /// When the feed's own text is short (a title and a summary line).
    #[default]
    Auto,
    Always,
    Never,
}

#[cfg(test)]
impl FeedConfig {
    /// A feed for the store's unit tests: hourly, enabled, no language, generic extraction.
    pub fn for_tests(name: &str, url: &str, fetch_article: FetchArticle) -> FeedConfig {
        FeedConfig {
            name: name.into(),
            url: Url::parse(url).expect("a test feed's URL"),
            every: Duration::from_secs(3600),
            language: None,
            enabled: true,
            fetch_article,
            content_selector: None,
            remove_selectors: Vec::new(),
            source: Default::default(),
        }
    }
}

impl FeedConfig {
    /// The extraction overrides of this feed.
    pub fn extract_options(&self) -> crate::pipeline::extract::Options {
        crate::pipeline::extract::Options {
            content_selector: self.content_selector.clone(),
            remove_selectors: self.remove_selectors.clone(),
        }
    }
}

// ---- raw, as written in the file ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    storage: RawStorage,
    #[serde(default)]
    fetch: RawFetch,
    #[serde(default)]
    classifier: RawClassifier,
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    feeds: Vec<RawFeed>,
    #[serde(default)]
    watchlists: Vec<crate::digest::config::RawWatchlist>,
    mail: Option<crate::digest::config::RawMail>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Option<Spanned<String>>,
    token: Option<Spanned<String>>,
    token_file: Option<Spanned<String>>,
    url: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStorage {
    #[serde(default = "default_database")]
    database: String,
    keep_items: Option<Spanned<String>>,
    keep_matches: Option<Spanned<String>>,
}

impl Default for RawStorage {
    fn default() -> Self {
        RawStorage {
            database: default_database(),
            keep_items: None,
            keep_matches: None,
        }
    }
}

/// The database when `[storage] database` is not set: beside the configuration file, so a
/// configuration's files stay in its folder.
pub const DEFAULT_DATABASE: &str = "data/veille.db";

fn default_database() -> String {
    DEFAULT_DATABASE.into()
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFetch {
    user_agent: Option<String>,
    timeout: Option<Spanned<HumanDuration>>,
    connect_timeout: Option<Spanned<HumanDuration>>,
    max_body_bytes: Option<u64>,
    max_redirects: Option<usize>,
    concurrency: Option<usize>,
    per_host: Option<usize>,
    per_host_delay: Option<Spanned<HumanDuration>>,
    max_items_per_feed: Option<usize>,
    allow_private_networks: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawClassifier {
    topics: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFeed {
    name: Spanned<String>,
    url: Spanned<String>,
    every: Option<Spanned<HumanDuration>>,
    language: Option<Spanned<String>>,
    #[serde(default = "yes")]
    enabled: bool,
    #[serde(default)]
    fetch_article: FetchArticle,
    content_selector: Option<Spanned<String>>,
    remove_selectors: Option<Spanned<Vec<String>>>,
    kind: Option<Spanned<crate::pipeline::sources::config::Kind>>,
    category: Option<Spanned<String>>,
    html: Option<Spanned<crate::pipeline::sources::config::RawHtml>>,
    json: Option<Spanned<crate::pipeline::sources::config::RawJson>>,
}

fn yes() -> bool {
    true
}

/// Default User-Agent: names the software and where to learn about it.
pub fn default_user_agent() -> String {
    format!(
        "veille/{} (policy news monitor; +https://github.com/veille-news/veille)",
        env!("CARGO_PKG_VERSION")
    )
}

/// The default feed interval when a feed gives none.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(3600);
/// The default number of requests in flight over all hosts: enough that a poll of many sites is
/// bounded by the per-host delay, not by this (a request waiting ~150 ms for a distant server
/// holds its place: 10,000 feeds on 200 sites need ~30 in flight to keep up with 1 s per site;
/// see README "Performance", `bench/farm.py`).
pub const DEFAULT_CONCURRENCY: usize = 64;
/// The default minimum time between two requests to one host.
pub const DEFAULT_PER_HOST_DELAY: Duration = Duration::from_secs(1);
/// The default number of items taken from one feed document.
pub const DEFAULT_MAX_ITEMS_PER_FEED: usize = 1000;
/// The shortest interval accepted: anything faster is impolite to official sites.
pub const MIN_EVERY: Duration = duration::EVERY.min;
/// The longest interval accepted.
pub const MAX_EVERY: Duration = duration::EVERY.max;
/// How long items that matched no topic are kept by default (`[storage] keep_items`).
pub const DEFAULT_KEEP_ITEMS: Duration = Duration::from_secs(180 * 24 * 3600);
/// The shortest retention accepted: a day (pruning runs once a day).
pub const MIN_KEEP: Duration = Duration::from_secs(24 * 3600);

/// A retention period as written: a duration such as "180d", or "forever" (`None`).
fn keep_period(
    raw: Option<&Spanned<String>>,
    default: Option<Duration>,
    key: &str,
    path: &Path,
    text: &str,
) -> Result<Option<Duration>, ConfigError> {
    let Some(raw) = raw else {
        return Ok(default);
    };
    let err = |msg: String| {
        let mut e = located(path, text, Some(raw.span().start), msg);
        e.key = Some(format!("storage.{key}"));
        e
    };
    let value = raw.get_ref().trim();
    if value.eq_ignore_ascii_case("forever") {
        return Ok(None);
    }
    let d = humantime::parse_duration(value).map_err(|e| {
        err(format!(
            "invalid retention {value:?} ({e}); expected a duration such as \"180d\" or \"2years\", or \"forever\""
        ))
    })?;
    if d < MIN_KEEP {
        return Err(err(format!(
            "retention {} is too short; the minimum is 1 day (or \"forever\")",
            humantime::format_duration(d)
        )));
    }
    Ok(Some(d))
}

impl Config {
    /// Loads the configuration: an explicit path, else `config/veille.toml` when it exists,
    /// else the embedded defaults (as if at `config/veille.toml`).
    pub fn load(explicit: Option<&Path>) -> Result<Config, ConfigError> {
        Self::load_checked(explicit).map_err(first)
    }

    /// As [`Config::load`], reporting every mistake found rather than the first (`veille
    /// check`). A TOML syntax or type error (an unknown key, a string for a number) still stops
    /// the reading of its file at the first one.
    pub fn load_checked(explicit: Option<&Path>) -> Result<Config, Vec<ConfigError>> {
        match explicit {
            Some(path) => Self::file_checked(path),
            None if Path::new(DEFAULT_CONFIG_PATH).exists() => {
                Self::file_checked(Path::new(DEFAULT_CONFIG_PATH))
            }
            None => Self::checked(DEFAULT_CONFIG, Path::new(DEFAULT_CONFIG_PATH)).map(|mut c| {
                c.embedded = true;
                c
            }),
        }
    }

    /// Reads and validates one file.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        Self::file_checked(path).map_err(first)
    }

    fn file_checked(path: &Path) -> Result<Config, Vec<ConfigError>> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            vec![ConfigError {
                path: path.to_path_buf(),
                line: None,
                column: None,
                key: None,
                message: format!("cannot read the configuration file: {e}"),
            }]
        })?;
        Self::checked(&text, path)
    }

    /// Parses and validates `text` as if it were the file at `path`.
    pub fn from_str(text: &str, path: &Path) -> Result<Config, ConfigError> {
        Self::checked(text, path).map_err(first)
    }

    /// Parses and validates `text` as if it were the file at `path`, with every mistake found.
    pub fn checked(text: &str, path: &Path) -> Result<Config, Vec<ConfigError>> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let at = e.span().map(|s| s.start);
            vec![located(path, text, at, e.message().to_string())]
        })?;
        let base = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let base = if base.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            base
        };

        let mut errors = Vec::new();
        // Every name written, valid or not: a watch list naming a broken feed is not also
        // reported as naming an unknown one.
        let names: Vec<String> = raw
            .feeds
            .iter()
            .map(|f| f.name.get_ref().trim().to_string())
            .collect();
        let mut feeds = Vec::with_capacity(raw.feeds.len());
        let mut categories = std::collections::BTreeMap::new();
        let mut seen = HashSet::new();
        for (i, f) in raw.feeds.into_iter().enumerate() {
            let label = category(i, f.category.as_ref(), path, text).unwrap_or_else(|e| {
                errors.push(e);
                None
            });
            match feed(i, f, path, text, &mut seen) {
                Ok(f) => {
                    if let Some(label) = label {
                        categories.insert(f.name.clone(), label);
                    }
                    feeds.push(f)
                }
                Err(e) => errors.push(e),
            }
        }

        // A value out of range is reported and its default stands in, so that checking goes on.
        let mut kept = |r: Result<Duration, ConfigError>, default: Duration| match r {
            Ok(d) => d,
            Err(e) => {
                errors.push(e);
                default
            }
        };
        let fetch_key = |key: &'static str| {
            move |at: usize, m: String| {
                let mut e = located(path, text, Some(at), format!("`{key}` = {m}"));
                e.key = Some(format!("fetch.{key}"));
                e
            }
        };
        let timeout = kept(
            duration_in(
                &raw.fetch.timeout,
                Duration::from_secs(30),
                duration::FETCH_TIMEOUT,
                fetch_key("timeout"),
            ),
            Duration::from_secs(30),
        );
        let connect_timeout = kept(
            duration_in(
                &raw.fetch.connect_timeout,
                Duration::from_secs(10),
                duration::FETCH_TIMEOUT,
                fetch_key("connect_timeout"),
            ),
            Duration::from_secs(10),
        );
        let per_host_delay = kept(
            duration_in(
                &raw.fetch.per_host_delay,
                DEFAULT_PER_HOST_DELAY,
                duration::PER_HOST_DELAY,
                fetch_key("per_host_delay"),
            ),
            DEFAULT_PER_HOST_DELAY,
        );
        let fetch = FetchSettings {
            user_agent: raw.fetch.user_agent.unwrap_or_else(default_user_agent),
            timeout,
            connect_timeout,
            max_body_bytes: raw.fetch.max_body_bytes.unwrap_or(10 * 1024 * 1024),
            max_redirects: raw.fetch.max_redirects.unwrap_or(5),
            concurrency: raw.fetch.concurrency.unwrap_or(DEFAULT_CONCURRENCY).max(1),
            per_host: raw.fetch.per_host.unwrap_or(2).max(1),
            per_host_delay,
            max_items_per_feed: raw
                .fetch
                .max_items_per_feed
                .unwrap_or(DEFAULT_MAX_ITEMS_PER_FEED)
                .max(1),
            allow_private_networks: raw.fetch.allow_private_networks.unwrap_or(false),
        };

        let server = match server_settings(&raw.server, path, text, &base) {
            Ok(s) => s,
            Err(e) => {
                errors.extend(e);
                ServerSettings::default()
            }
        };
        let topics_dir =
            normalise(&base.join(raw.classifier.topics.as_deref().unwrap_or("topics")));
        let mail = match crate::digest::config::mail_settings(raw.mail, path, text, &base) {
            Ok(m) => Some(m),
            Err(e) => {
                errors.push(e);
                None
            }
        };
        let known_topics = crate::digest::config::known_topics(&topics_dir);
        let known = crate::digest::config::Known {
            topics: &known_topics,
            feeds: &names.iter().map(String::as_str).collect::<Vec<_>>(),
        };
        let watchlists =
            match crate::digest::config::watchlists(raw.watchlists, path, text, &base, &known) {
                Ok(w) => w,
                Err(e) => {
                    errors.extend(e);
                    Vec::new()
                }
            };
        let keep_items = keep_period(
            raw.storage.keep_items.as_ref(),
            Some(DEFAULT_KEEP_ITEMS),
            "keep_items",
            path,
            text,
        )
        .unwrap_or_else(|e| {
            errors.push(e);
            None
        });
        let keep_matches = keep_period(
            raw.storage.keep_matches.as_ref(),
            None,
            "keep_matches",
            path,
            text,
        )
        .unwrap_or_else(|e| {
            errors.push(e);
            None
        });
        let Some(mail) = mail.filter(|_| errors.is_empty()) else {
            return Err(errors);
        };

        Ok(Config {
            path: path.to_path_buf(),
            embedded: false,
            server,
            storage: Storage {
                database: normalise(&base.join(&raw.storage.database)),
                keep_items,
                keep_matches,
            },
            fetch,
            classifier: ClassifierSettings { topics_dir },
            feeds,
            watchlists,
            mail,
            categories,
        })
    }

    /// The feed of this name, if configured.
    pub fn feed(&self, name: &str) -> Option<&FeedConfig> {
        self.feeds.iter().find(|f| f.name == name)
    }

    /// The watch list of this name, if configured.
    pub fn watchlist(&self, name: &str) -> Option<&crate::digest::config::Watchlist> {
        self.watchlists.iter().find(|w| w.name == name)
    }
}

/// Validates the `[server]` table, every mistake reported.
fn server_settings(
    raw: &RawServer,
    path: &Path,
    text: &str,
    base: &Path,
) -> Result<ServerSettings, Vec<ConfigError>> {
    let mut errors = Vec::new();
    let server_err = |at: usize, key: &str, msg: String| {
        let mut e = located(path, text, Some(at), msg);
        e.key = Some(format!("server.{key}"));
        e
    };
    let token = match (&raw.token, &raw.token_file) {
        (Some(_), Some(f)) => {
            errors.push(server_err(
                f.span().start,
                "token_file",
                "give either `token` or `token_file`, not both".into(),
            ));
            None
        }
        (Some(t), None) => Some((t.get_ref().trim().to_string(), t.span().start, "token")),
        (None, Some(f)) => {
            let file = base.join(f.get_ref());
            match std::fs::read_to_string(&file) {
                Ok(read) => Some((read.trim().to_string(), f.span().start, "token_file")),
                Err(e) => {
                    errors.push(server_err(
                        f.span().start,
                        "token_file",
                        format!("cannot read the token file {}: {e}", file.display()),
                    ));
                    None
                }
            }
        }
        (None, None) => None,
    };
    if let Some((t, at, key)) = &token
        && t.chars().count() < MIN_TOKEN_CHARS
    {
        errors.push(server_err(
            *at,
            key,
            format!(
                "the token is {} characters long; use at least {MIN_TOKEN_CHARS} (e.g. `openssl rand -hex 24`)",
                t.chars().count()
            ),
        ));
    }
    let url = match &raw.url {
        Some(u) => match Url::parse(u.get_ref())
            .ok()
            .filter(|p| matches!(p.scheme(), "http" | "https"))
        {
            Some(mut parsed) => {
                if !parsed.path().ends_with('/') {
                    let p = format!("{}/", parsed.path());
                    parsed.set_path(&p);
                }
                Some(parsed)
            }
            None => {
                errors.push(server_err(
                    u.span().start,
                    "url",
                    format!(
                        "invalid URL {:?}; expected the web view's address such as \"https://veille.example.org/\"",
                        u.get_ref()
                    ),
                ));
                None
            }
        },
        None => None,
    };
    let listen = match &raw.listen {
        Some(l) => match l.get_ref().parse() {
            Ok(addr) => Some(addr),
            Err(e) => {
                errors.push(server_err(
                    l.span().start,
                    "listen",
                    format!(
                        "invalid address {:?} ({e}); expected IP:PORT such as \"127.0.0.1:9187\"",
                        l.get_ref()
                    ),
                ));
                None
            }
        },
        None => None,
    };
    let server = ServerSettings {
        listen,
        token: token.map(|t| t.0),
        url,
    };
    if let (Some(listen), Some(l)) = (server.listen, &raw.listen)
        && let Some(msg) = ServerSettings::exposure_error(listen, server.token.as_deref())
    {
        errors.push(server_err(l.span().start, "listen", msg));
    }
    if errors.is_empty() {
        Ok(server)
    } else {
        Err(errors)
    }
}

/// Validates one `[[feeds]]` table (the `i`-th); `seen` holds the names taken so far.
fn feed(
    i: usize,
    f: RawFeed,
    path: &Path,
    text: &str,
    seen: &mut HashSet<String>,
) -> Result<FeedConfig, ConfigError> {
    let err = |span: std::ops::Range<usize>, key: &str, msg: String| {
        let mut e = located(path, text, Some(span.start), msg);
        e.key = Some(format!("feeds[{i}].{key}"));
        e
    };
    let name = f.name.get_ref().trim().to_string();
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err(err(
            f.name.span(),
            "name",
            "a feed name must be non-empty and contain no spaces (e.g. \"eeas-press\")".into(),
        ));
    }
    if !seen.insert(name.clone()) {
        return Err(err(
            f.name.span(),
            "name",
            format!("duplicate feed name {name:?}; every feed needs its own name"),
        ));
    }
    let url = Url::parse(f.url.get_ref()).map_err(|e| {
        err(
            f.url.span(),
            "url",
            format!(
                "invalid URL {:?} ({e}); expected an absolute http(s) URL",
                f.url.get_ref()
            ),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(err(
            f.url.span(),
            "url",
            format!(
                "unsupported URL scheme {:?}; expected http or https",
                url.scheme()
            ),
        ));
    }
    let every = duration_in(&f.every, DEFAULT_EVERY, duration::EVERY, |at, m| {
        err(at..at, "every", format!("interval {m}"))
    })?;
    let language = match f.language {
        Some(l) => {
            let code = l.get_ref().trim().to_ascii_lowercase();
            if code.len() != 2 || !code.chars().all(|c| c.is_ascii_lowercase()) {
                return Err(err(
                    l.span(),
                    "language",
                    format!(
                        "invalid language {:?}; expected a two-letter ISO 639-1 code such as \"en\" or \"ga\"",
                        l.get_ref()
                    ),
                ));
            }
            Some(code)
        }
        None => None,
    };
    let source = crate::pipeline::sources::config::source(
        crate::pipeline::sources::config::RawSource {
            kind: f.kind,
            html: f.html,
            json: f.json,
        },
        f.name.span(),
        &err,
    )?;
    let feed = FeedConfig {
        name,
        url,
        every,
        language,
        enabled: f.enabled,
        fetch_article: f.fetch_article,
        content_selector: f.content_selector.as_ref().map(|s| s.get_ref().clone()),
        remove_selectors: f
            .remove_selectors
            .as_ref()
            .map(|s| s.get_ref().clone())
            .unwrap_or_default(),
        source,
    };
    if let Err(e) = crate::pipeline::extract::Extractor::new(&feed.extract_options()) {
        let (span, key) = match &e {
            crate::pipeline::extract::ExtractError::Selector {
                field: "content_selector",
                ..
            } => (
                f.content_selector
                    .as_ref()
                    .map_or(f.name.span(), |s| s.span()),
                "content_selector",
            ),
            _ => (
                f.remove_selectors
                    .as_ref()
                    .map_or(f.name.span(), |s| s.span()),
                "remove_selectors",
            ),
        };
        return Err(err(span, key, e.to_string()));
    }
    Ok(feed)
}

/// A feed's `category` label, checked (`feeds[i].category`).
fn category(
    i: usize,
    raw: Option<&Spanned<String>>,
    path: &Path,
    text: &str,
) -> Result<Option<String>, ConfigError> {
    let Some(c) = raw else {
        return Ok(None);
    };
    let label = c.get_ref().trim();
    if label.is_empty() || label.chars().count() > 200 || label.contains(['\n', '\r']) {
        let mut e = located(
            path,
            text,
            Some(c.span().start),
            "a category is a label on one line of at most 200 characters, such as \"EU agencies\" or \"Press/Council\"".into(),
        );
        e.key = Some(format!("feeds[{i}].category"));
        return Err(e);
    }
    Ok(Some(label.to_string()))
}

/// The first of a list of errors (there is always one).
fn first(mut errors: Vec<ConfigError>) -> ConfigError {
    errors.remove(0)
}

/// Removes `.` and `name/..` pairs without touching the file system (`config/../data` → `data`).
pub fn normalise(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::from_str(text, Path::new("conf/test.toml"))
    }

    #[test]
    fn embedded_default_config_is_valid() {
        let c = Config::from_str(DEFAULT_CONFIG, Path::new(DEFAULT_CONFIG_PATH)).unwrap();
        assert!(
            c.feeds.len() >= 5,
            "default config should list the official feeds"
        );
        assert!(c.feed("digital-strategy-en").is_some());
        assert_eq!(c.storage.database, Path::new("data/veille.db"));
    }

    /// Regression (issue 16, point 11): the README's Configuration section showed `[server]
    /// listen` set while the shipped file has it commented out; its example must parse and say
    /// what the defaults are.
    #[test]
    fn the_readme_configuration_example_parses_as_documented() {
        let readme = include_str!("../README.md");
        let section = &readme[readme.find("## A first configuration").unwrap()..];
        let block = &section[section.find("```toml\n").unwrap() + 8..];
        let block = &block[..block.find("```").unwrap()];
        let c = Config::from_str(block, Path::new("ob/veille.toml")).unwrap();
        assert_eq!(c.storage.database, Path::new("ob/data/veille.db"));
        assert_eq!(
            c.server.listen, None,
            "commented out, as in config/veille.toml"
        );
        let shipped = Config::from_str(DEFAULT_CONFIG, Path::new(DEFAULT_CONFIG_PATH)).unwrap();
        assert_eq!(shipped.server.listen, None);
    }

    #[test]
    fn unknown_key_names_line_and_key() {
        let e = parse("[[feeds]]\nname = \"a\"\nurl = \"https://x.eu/rss\"\nevry = \"30m\"\n")
            .unwrap_err();
        assert_eq!(e.line, Some(4), "{e}");
        assert_eq!(e.key.as_deref(), Some("evry"), "{e}");
        assert!(e.message.contains("unknown field"), "{e}");
        assert!(e.to_string().starts_with("conf/test.toml:4:"), "{e}");
    }

    #[test]
    fn bad_duration_is_explained() {
        let e =
            parse("[[feeds]]\nname = \"a\"\nurl = \"https://x.eu/rss\"\nevery = \"30 minutez\"\n")
                .unwrap_err();
        assert_eq!(e.line, Some(4), "{e}");
        assert_eq!(e.key.as_deref(), Some("every"));
        assert!(e.message.contains("expected a duration"), "{e}");
    }

    #[test]
    fn bad_url_and_duplicate_names_are_located() {
        let e = parse("[[feeds]]\nname = \"a\"\nurl = \"not a url\"\n").unwrap_err();
        assert_eq!((e.line, e.key.as_deref()), (Some(3), Some("feeds[0].url")));
        let e = parse("[[feeds]]\nname = \"a\"\nurl = \"ftp://x.eu/\"\n").unwrap_err();
        assert!(e.message.contains("scheme"), "{e}");
        let e = parse(
            "[[feeds]]\nname = \"a\"\nurl = \"https://x.eu/1\"\n[[feeds]]\nname = \"a\"\nurl = \"https://x.eu/2\"\n",
        )
        .unwrap_err();
        assert_eq!((e.line, e.key.as_deref()), (Some(5), Some("feeds[1].name")));
        assert!(e.message.contains("duplicate"), "{e}");
    }

    #[test]
    fn paths_are_relative_to_the_file_and_defaults_apply() {
        let c = parse("[storage]\ndatabase = \"db/v.db\"\n[[feeds]]\nname = \"a\"\nurl = \"https://x.eu/1\"\nlanguage = \"GA\"\n").unwrap();
        assert_eq!(c.storage.database, Path::new("conf/db/v.db"));
        assert_eq!(c.classifier.topics_dir, Path::new("conf/topics"));
        assert_eq!(c.feeds[0].every, DEFAULT_EVERY);
        assert_eq!(c.feeds[0].language.as_deref(), Some("ga"));
        assert_eq!(c.fetch.max_redirects, 5);
        assert_eq!(c.fetch.per_host_delay, DEFAULT_PER_HOST_DELAY);
        assert_eq!(c.fetch.max_items_per_feed, 1000);
        assert!(!c.fetch.allow_private_networks);
        let c = Config::from_str(
            "[storage]\ndatabase = \"../../x.db\"\n",
            Path::new("a/b.toml"),
        )
        .unwrap();
        assert_eq!(c.storage.database, Path::new("../x.db"));
    }

    #[test]
    fn extraction_overrides_are_validated() {
        let c = parse("[[feeds]]\nname = \"a\"\nurl = \"https://x.eu/1\"\nfetch_article = \"always\"\ncontent_selector = \"div.body\"\nremove_selectors = [\".share\"]\n").unwrap();
        assert_eq!(c.feeds[0].fetch_article, FetchArticle::Always);
        assert_eq!(c.feeds[0].remove_selectors, vec![".share".to_string()]);
        let e = parse(
            "[[feeds]]\nname = \"a\"\nurl = \"https://x.eu/1\"\nremove_selectors = [\"div[\"]\n",
        )
        .unwrap_err();
        assert_eq!(
            (e.line, e.key.as_deref()),
            (Some(4), Some("feeds[0].remove_selectors")),
            "{e}"
        );
        assert!(e.message.contains("div["), "{e}");
        let e = parse(
            "[[feeds]]\nname = \"a\"\nurl = \"https://x.eu/1\"\nfetch_article = \"sometimes\"\n",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(4), "{e}");
        assert!(e.message.contains("auto"), "{e}");
    }

    #[test]
    fn politeness_caps_and_the_ssrf_switch_are_read() {
        let c = parse("[fetch]\nper_host_delay = \"250ms\"\nmax_items_per_feed = 50\nallow_private_networks = true\n").unwrap();
        assert_eq!(c.fetch.per_host_delay, Duration::from_millis(250));
        assert_eq!(c.fetch.max_items_per_feed, 50);
        assert!(c.fetch.allow_private_networks);
        let e = parse("[fetch]\nper_host_delay = \"soon\"\n").unwrap_err();
        assert_eq!(
            (e.line, e.key.as_deref()),
            (Some(2), Some("per_host_delay")),
            "{e}"
        );
    }

    #[test]
    fn server_listen_is_an_address() {
        let c = parse("[server]\nlisten = \"127.0.0.1:9187\"\n").unwrap();
        assert_eq!(c.server.listen.unwrap().port(), 9187);
        let e = parse("[server]\nlisten = \"localhost\"\n").unwrap_err();
        assert_eq!((e.line, e.key.as_deref()), (Some(2), Some("server.listen")));
    }

    #[test]
    fn a_listen_address_beyond_loopback_needs_a_token() {
        let e = parse("[server]\nlisten = \"0.0.0.0:9187\"\n").unwrap_err();
        assert_eq!((e.line, e.key.as_deref()), (Some(2), Some("server.listen")));
        assert!(e.message.contains("token"), "{e}");
        let c = parse("[server]\nlisten = \"0.0.0.0:9187\"\ntoken = \"0123456789abcdef0123\"\n")
            .unwrap();
        assert_eq!(c.server.token.as_deref(), Some("0123456789abcdef0123"));
        assert!(
            !format!("{:?}", c.server).contains("0123456789"),
            "the token is never logged"
        );
        assert_eq!(
            c.server.public_url(),
            None,
            "0.0.0.0 is no address to link to"
        );
        let e = parse("[server]\ntoken = \"short\"\n").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("server.token"), "{e}");
        let c = parse("[server]\nlisten = \"127.0.0.1:9187\"\n").unwrap();
        assert_eq!(
            c.server.public_url().unwrap().as_str(),
            "http://127.0.0.1:9187/"
        );
        let c = parse("[server]\nurl = \"https://v.example.org/veille\"\n").unwrap();
        assert_eq!(
            c.server.public_url().unwrap().as_str(),
            "https://v.example.org/veille/"
        );
        let e = parse("[server]\nurl = \"ftp://x\"\n").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("server.url"), "{e}");
    }

    #[test]
    fn retention_defaults_to_180_days_for_unmatched_items_and_forever_for_matches() {
        let c = parse("").unwrap();
        assert_eq!(c.storage.keep_items, Some(DEFAULT_KEEP_ITEMS));
        assert_eq!(c.storage.keep_matches, None);
        let c = parse("[storage]\nkeep_items = \"forever\"\nkeep_matches = \"2years\"\n").unwrap();
        assert_eq!(c.storage.keep_items, None);
        assert!(c.storage.keep_matches.unwrap() > Duration::from_secs(700 * 86_400));
        for (text, line, expected) in [
            ("[storage]\nkeep_items = \"6 monts\"\n", 2, "forever"),
            (
                "[storage]\n\nkeep_matches = \"1h\"\n",
                3,
                "minimum is 1 day",
            ),
        ] {
            let e = parse(text).unwrap_err();
            assert_eq!(e.line, Some(line), "{e}");
            assert!(
                e.key.as_deref().unwrap().starts_with("storage.keep_"),
                "{e}"
            );
            assert!(e.message.contains(expected), "{e}");
        }
    }

    #[test]
    fn the_token_can_live_in_a_file_beside_the_configuration() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), "abcdefghijklmnopqrstuvwxyz\n").unwrap();
        let path = dir.path().join("v.toml");
        let c = Config::from_str(
            "[server]\nlisten = \"[::]:9187\"\ntoken_file = \"token\"\n",
            &path,
        )
        .unwrap();
        assert_eq!(
            c.server.token.as_deref(),
            Some("abcdefghijklmnopqrstuvwxyz")
        );
        let e = Config::from_str("[server]\ntoken_file = \"missing\"\n", &path).unwrap_err();
        assert!(e.message.contains("cannot read the token file"), "{e}");
    }

    #[test]
    fn too_short_interval_and_bad_language_are_rejected() {
        let e = parse("[[feeds]]\nname = \"a\"\nurl = \"https://x.eu/1\"\nevery = \"5s\"\n")
            .unwrap_err();
        assert!(e.message.contains("too short"), "{e}");
        let e =
            parse("[[feeds]]\nname = \"a\"\nurl = \"https://x.eu/1\"\nlanguage = \"english\"\n")
                .unwrap_err();
        assert_eq!(e.key.as_deref(), Some("feeds[0].language"));
    }
}
