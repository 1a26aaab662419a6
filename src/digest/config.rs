//! Watch lists and mail settings: the `[[watchlists]]` and `[mail]` tables, typed and validated.
//!
//! Watch lists come from the main file and from every `watchlists/*.toml` beside it (each such
//! file holds `[[watchlists]]` tables only). Topic ids are checked against the stems of the
//! `*.toml` files in the topics directory, or, while that directory does not exist, against the
//! rules embedded in the binary (which the classifier then uses).

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono_tz::Tz;
use croner::Cron;
use lettre::message::Mailbox;
use serde::Deserialize;
use serde_spanned::Spanned;
use url::Url;

use crate::duration::HumanDuration;
use crate::error::{ConfigError, located};

/// One watch list: which items go to whom, and when.
#[derive(Debug, Clone)]
pub struct Watchlist {
    pub name: String,
    pub topics: Vec<String>,
    /// Feed names; empty = all feeds.
    pub feeds: Vec<String>,
    /// ISO 639-1 codes; empty = all languages.
    pub languages: Vec<String>,
    pub min_score: f64,
    pub recipients: Vec<Mailbox>,
    /// The cron expression as written, e.g. `0 8 * * 1-5`.
    pub schedule: String,
    pub cron: Cron,
    pub timezone: Tz,
    pub send_empty: bool,
    /// A chat webhook the digests also (or, without recipients, only) go to.
    pub webhook: Option<Webhook>,
}

/// Where a watch list's digests are posted: `webhook = { url = "…", format = "slack" }`.
#[derive(Clone, PartialEq)]
pub struct Webhook {
    pub url: Url,
    pub format: WebhookFormat,
}

impl std::fmt::Debug for Webhook {
    /// Chat webhook URLs carry their secret in the path: only the host is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("host", &self.url.host_str())
            .field("format", &self.format)
            .finish()
    }
}

/// The body a webhook gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookFormat {
    /// A Slack incoming webhook (`text` with mrkdwn, and `blocks`).
    Slack,
    /// A Microsoft Teams workflow or connector webhook (an Adaptive Card).
    Teams,
    /// veille's own JSON: the digest's stories, versions, evidence and feed health.
    Json,
}

impl Watchlist {
    /// A stable key of what computes the fire times: a change of schedule recomputes them.
    pub fn schedule_key(&self) -> String {
        format!("{} {}", self.schedule, self.timezone.name())
    }
}

/// How digests leave the machine.
#[derive(Debug, Clone, PartialEq)]
pub enum TransportKind {
    /// Each digest written as an `.eml` file in this directory.
    Outbox(PathBuf),
    /// SMTP submission to this URL; the password comes from the named environment variable.
    Smtp {
        url: Url,
        password_env: Option<String>,
    },
    /// The local `sendmail` program (this command, else the one found on `PATH`).
    Sendmail(Option<PathBuf>),
}

/// The `[mail]` table after validation.
#[derive(Debug, Clone, PartialEq)]
pub struct MailSettings {
    pub from: Mailbox,
    pub transport: TransportKind,
    /// One delivery attempt, from connecting to the server's last reply (every step within it).
    pub timeout: std::time::Duration,
}

/// The default `mail.timeout`.
pub const DEFAULT_MAIL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

fn default_from() -> Mailbox {
    Mailbox::from_str("veille <veille@localhost>").expect("valid default sender")
}

// ---- raw, as written ----

/// A `[[watchlists]]` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWatchlist {
    name: Spanned<String>,
    topics: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    feeds: Vec<Spanned<String>>,
    #[serde(default)]
    languages: Vec<Spanned<String>>,
    #[serde(default)]
    min_score: Option<Spanned<f64>>,
    recipients: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    webhook: Option<Spanned<RawWebhook>>,
    schedule: Spanned<String>,
    #[serde(default)]
    timezone: Option<Spanned<String>>,
    #[serde(default)]
    send_empty: bool,
}

/// `webhook = { url = "…", format = "…" }` (or `url_env = "NAME"` instead of `url`) as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWebhook {
    url: Option<Spanned<String>>,
    url_env: Option<Spanned<String>>,
    format: Option<Spanned<String>>,
}

/// The `[mail]` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMail {
    transport: Option<Spanned<String>>,
    from: Option<Spanned<String>>,
    smtp_url: Option<Spanned<String>>,
    password_env: Option<Spanned<String>>,
    outbox: Option<String>,
    sendmail: Option<String>,
    timeout: Option<Spanned<HumanDuration>>,
}

/// A `watchlists/*.toml` file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWatchlistFile {
    #[serde(default)]
    watchlists: Vec<RawWatchlist>,
}

/// Validates the `[mail]` table of the file at `path` (text `text`, directory `base`).
pub fn mail_settings(
    raw: Option<RawMail>,
    path: &Path,
    text: &str,
    base: &Path,
) -> Result<MailSettings, ConfigError> {
    let Some(raw) = raw else {
        return Ok(MailSettings {
            from: default_from(),
            transport: TransportKind::Outbox(crate::config::normalise(&base.join(DEFAULT_OUTBOX))),
            timeout: DEFAULT_MAIL_TIMEOUT,
        });
    };
    let err = |at: usize, key: &str, msg: String| {
        let mut e = located(path, text, Some(at), msg);
        e.key = Some(format!("mail.{key}"));
        e
    };
    let from = match &raw.from {
        Some(f) => Mailbox::from_str(f.get_ref().trim()).map_err(|e| {
            err(
                f.span().start,
                "from",
                format!(
                    "invalid sender {:?} ({e}); expected an address such as \"veille <veille@example.org>\"",
                    f.get_ref()
                ),
            )
        })?,
        None => default_from(),
    };
    let kind = raw
        .transport
        .as_ref()
        .map_or("outbox", |t| t.get_ref().as_str());
    let transport = match kind {
        "outbox" => TransportKind::Outbox(crate::config::normalise(
            &base.join(raw.outbox.as_deref().unwrap_or(DEFAULT_OUTBOX)),
        )),
        "sendmail" => {
            let at = raw.transport.as_ref().map_or(0, |t| t.span().start);
            let program = sendmail_program(raw.sendmail.as_deref(), base).map_err(|message| {
                let mut e = err(at, "sendmail", message);
                e.key = Some("mail.sendmail".into());
                e
            })?;
            TransportKind::Sendmail(program)
        }
        "smtp" => {
            let Some(u) = &raw.smtp_url else {
                let at = raw.transport.as_ref().map_or(0, |t| t.span().start);
                return Err(err(
                    at,
                    "smtp_url",
                    "transport \"smtp\" needs `smtp_url`, e.g. \"smtps://user@mail.example.org:465\" or \"smtp://mail.example.org:587?tls=required\"".into(),
                ));
            };
            let url = Url::parse(u.get_ref()).map_err(|e| {
                err(
                    u.span().start,
                    "smtp_url",
                    format!(
                        "invalid URL {:?} ({e}); expected smtp:// or smtps://",
                        u.get_ref()
                    ),
                )
            })?;
            let tls = url
                .query_pairs()
                .find(|(k, _)| k == "tls")
                .map(|(_, v)| v.into_owned());
            let ok = matches!(
                (url.scheme(), tls.as_deref()),
                ("smtps", None) | ("smtp", None | Some("required") | Some("opportunistic"))
            );
            if !ok || url.host_str().is_none() {
                return Err(err(
                    u.span().start,
                    "smtp_url",
                    format!(
                        "unsupported SMTP URL {:?}; expected smtps://[user@]host[:465], smtp://host[:587]?tls=required|opportunistic or smtp://host:port (no TLS)",
                        u.get_ref()
                    ),
                ));
            }
            if url.password().is_some() {
                return Err(err(
                    u.span().start,
                    "smtp_url",
                    "the URL contains a password; put it in an environment variable and name it with `password_env`".into(),
                ));
            }
            let password_env = match &raw.password_env {
                Some(p) if p.get_ref().is_empty() || p.get_ref().contains(['=', '\0']) => {
                    return Err(err(
                        p.span().start,
                        "password_env",
                        format!("invalid environment variable name {:?}", p.get_ref()),
                    ));
                }
                Some(p) => Some(p.get_ref().clone()),
                None => None,
            };
            TransportKind::Smtp { url, password_env }
        }
        other => {
            let at = raw.transport.as_ref().map_or(0, |t| t.span().start);
            return Err(err(
                at,
                "transport",
                format!(
                    "unknown transport {other:?}; expected \"outbox\", \"smtp\" or \"sendmail\""
                ),
            ));
        }
    };
    let timeout = crate::duration::duration_in(
        &raw.timeout,
        DEFAULT_MAIL_TIMEOUT,
        crate::duration::MAIL_TIMEOUT,
        |at, m| err(at, "timeout", format!("`timeout` = {m}")),
    )?;
    Ok(MailSettings {
        from,
        transport,
        timeout,
    })
}

/// Where the outbox transport writes when `mail.outbox` is not set: beside the configuration
/// file, like the database.
pub const DEFAULT_OUTBOX: &str = "data/outbox";

/// The sendmail program to run: the configured path (relative to the configuration file when it
/// names a directory), else `sendmail` found on `PATH`. An error says what is missing: mail
/// would otherwise fail at every send.
fn sendmail_program(configured: Option<&str>, base: &Path) -> Result<Option<PathBuf>, String> {
    let Some(program) = configured else {
        let found = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).any(|dir| is_program(&dir.join("sendmail"))))
            .unwrap_or(false);
        return if found {
            Ok(None)
        } else {
            Err("transport \"sendmail\" needs a sendmail program and none is on PATH; set `sendmail = \"/usr/sbin/sendmail\"` (or the program's path)".into())
        };
    };
    let path = if program.contains('/') {
        crate::config::normalise(&base.join(program))
    } else {
        match std::env::var_os("PATH").and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(program))
                .find(|p| is_program(p))
        }) {
            Some(p) => p,
            None => {
                return Err(format!(
                    "sendmail program {program:?} is not on PATH; give its full path"
                ));
            }
        }
    };
    if !is_program(&path) {
        return Err(format!(
            "sendmail program {} does not exist or is not executable",
            path.display()
        ));
    }
    Ok(Some(path))
}

/// Whether `path` is an executable file.
fn is_program(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}

/// The topic ids known: stems of `*.toml` in `topics_dir`, or when it does not exist the rules
/// embedded in the binary (which the classifier uses then).
pub fn known_topics(topics_dir: &Path) -> BTreeSet<String> {
    let stem = |p: &Path| p.file_stem().map(|s| s.to_string_lossy().into_owned());
    match std::fs::read_dir(topics_dir) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .filter_map(|p| stem(&p))
            .collect(),
        Err(_) => crate::pipeline::classify::EMBEDDED_RULES
            .iter()
            .filter_map(|(name, _)| stem(Path::new(name)))
            .collect(),
    }
}

/// What watch list validation checks names against.
pub struct Known<'a> {
    pub topics: &'a BTreeSet<String>,
    /// Names of the configured feeds.
    pub feeds: &'a [&'a str],
}

/// Validates the watch lists of the main file, then those of `watchlists/*.toml` beside it.
/// Every mistake is reported (one per watch list at most), not only the first.
pub fn watchlists(
    raw: Vec<RawWatchlist>,
    path: &Path,
    text: &str,
    base: &Path,
    known: &Known<'_>,
) -> Result<Vec<Watchlist>, Vec<ConfigError>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    validate_all(raw, path, text, known, &mut seen, &mut out, &mut errors);
    let dir = base.join("watchlists");
    if let Ok(entries) = std::fs::read_dir(&dir) {
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        for file in files {
            let text = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                Err(e) => {
                    errors.push(ConfigError {
                        path: file.clone(),
                        line: None,
                        column: None,
                        key: None,
                        message: format!("cannot read the watch list file: {e}"),
                    });
                    continue;
                }
            };
            match toml::from_str::<RawWatchlistFile>(&text) {
                Ok(raw) => validate_all(
                    raw.watchlists,
                    &file,
                    &text,
                    known,
                    &mut seen,
                    &mut out,
                    &mut errors,
                ),
                Err(e) => errors.push(located(
                    &file,
                    &text,
                    e.span().map(|s| s.start),
                    e.message().to_string(),
                )),
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn validate_all(
    raw: Vec<RawWatchlist>,
    path: &Path,
    text: &str,
    known: &Known<'_>,
    seen: &mut HashSet<String>,
    out: &mut Vec<Watchlist>,
    errors: &mut Vec<ConfigError>,
) {
    for (i, w) in raw.into_iter().enumerate() {
        let at = w.name.span().start;
        let wl = match validate(w, i, path, text, known) {
            Ok(wl) => wl,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        if !seen.insert(wl.name.clone()) {
            let mut e = located(
                path,
                text,
                Some(at),
                format!(
                    "duplicate watch list name {:?}; every watch list (here and in watchlists/*.toml) needs its own name",
                    wl.name
                ),
            );
            e.key = Some(format!("watchlists[{i}].name"));
            errors.push(e);
            continue;
        }
        out.push(wl);
    }
}

fn validate(
    w: RawWatchlist,
    i: usize,
    path: &Path,
    text: &str,
    known: &Known<'_>,
) -> Result<Watchlist, ConfigError> {
    let err = |at: usize, key: &str, msg: String| {
        let mut e = located(path, text, Some(at), msg);
        e.key = Some(format!("watchlists[{i}].{key}"));
        e
    };
    let name = w.name.get_ref().trim().to_string();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(err(
            w.name.span().start,
            "name",
            "a watch list name must be non-empty and use only letters, digits, '-' and '_' (e.g. \"cyber-cooperation\")".into(),
        ));
    }
    if w.topics.get_ref().is_empty() {
        return Err(err(
            w.topics.span().start,
            "topics",
            "a watch list needs at least one topic id (a file stem of the topics directory)".into(),
        ));
    }
    let mut topics = Vec::new();
    for t in w.topics.get_ref() {
        let id = t.get_ref().trim().to_string();
        if !known.topics.contains(&id) {
            let list = known.topics.iter().cloned().collect::<Vec<_>>().join(", ");
            return Err(err(
                t.span().start,
                "topics",
                format!("unknown topic {id:?}; expected one of the topic files: {list}"),
            ));
        }
        topics.push(id);
    }
    let mut feeds = Vec::new();
    for f in &w.feeds {
        if !known.feeds.contains(&f.get_ref().as_str()) {
            return Err(err(
                f.span().start,
                "feeds",
                format!(
                    "unknown feed {:?}; expected the name of a [[feeds]] entry (or an empty list for all feeds)",
                    f.get_ref()
                ),
            ));
        }
        feeds.push(f.get_ref().clone());
    }
    let mut languages = Vec::new();
    for l in &w.languages {
        let code = l.get_ref().trim().to_ascii_lowercase();
        if code.len() != 2 || !code.chars().all(|c| c.is_ascii_lowercase()) {
            return Err(err(
                l.span().start,
                "languages",
                format!(
                    "invalid language {:?}; expected two-letter ISO 639-1 codes such as \"en\"",
                    l.get_ref()
                ),
            ));
        }
        languages.push(code);
    }
    let min_score = match &w.min_score {
        Some(s) if !(0.0..=1.0).contains(s.get_ref()) => {
            return Err(err(
                s.span().start,
                "min_score",
                format!(
                    "min_score {} is out of range; expected a number from 0.0 to 1.0",
                    s.get_ref()
                ),
            ));
        }
        Some(s) => *s.get_ref(),
        None => 0.0,
    };
    let webhook = match &w.webhook {
        Some(spanned) => {
            let h = spanned.get_ref();
            // The URL as written, or read from the environment variable `url_env` names (the
            // URL is a secret: keeping it out of the file keeps it out of backups and diffs).
            let (written, at, key) = match (&h.url, &h.url_env) {
                (Some(u), None) => (
                    u.get_ref().trim().to_string(),
                    u.span().start,
                    "webhook.url",
                ),
                (None, Some(v)) => {
                    let name = v.get_ref().trim();
                    let value = std::env::var(name).unwrap_or_default();
                    if name.is_empty() || value.trim().is_empty() {
                        return Err(err(
                            v.span().start,
                            "webhook.url_env",
                            format!(
                                "the environment variable {name:?} that `url_env` names is not set (or empty); set it to the webhook URL in the service's environment (e.g. `Environment=` or `EnvironmentFile=` of its systemd unit), or write the URL as `url`"
                            ),
                        ));
                    }
                    (value.trim().to_string(), v.span().start, "webhook.url_env")
                }
                (Some(_), Some(v)) => {
                    return Err(err(
                        v.span().start,
                        "webhook.url_env",
                        "a webhook takes `url` or `url_env`, not both; keep one".into(),
                    ));
                }
                (None, None) => {
                    return Err(err(
                        spanned.span().start,
                        "webhook",
                        "a webhook needs `url = \"https://…\"`, or `url_env = \"NAME\"` naming an environment variable that holds the URL".into(),
                    ));
                }
            };
            let url = Url::parse(&written)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
                .ok_or_else(|| {
                    err(
                        at,
                        key,
                        "invalid webhook URL; expected the http(s) address the chat service gave, e.g. \"https://hooks.slack.com/services/…\"".into(),
                    )
                })?;
            let format = match h.format.as_ref().map(|f| f.get_ref().trim()) {
                None | Some("json") => WebhookFormat::Json,
                Some("slack") => WebhookFormat::Slack,
                Some("teams") => WebhookFormat::Teams,
                Some(other) => {
                    return Err(err(
                        h.format.as_ref().map_or(0, |f| f.span().start),
                        "webhook.format",
                        format!(
                            "unknown webhook format {other:?}; expected \"slack\", \"teams\" or \"json\""
                        ),
                    ));
                }
            };
            Some(Webhook { url, format })
        }
        None => None,
    };
    let listed: &[Spanned<String>] = w.recipients.as_ref().map_or(&[], |r| r.get_ref());
    if listed.is_empty() && webhook.is_none() {
        return Err(err(
            w.recipients
                .as_ref()
                .map_or(w.name.span().start, |r| r.span().start),
            "recipients",
            "a watch list needs at least one recipient address, or a `webhook`".into(),
        ));
    }
    let mut recipients = Vec::new();
    for r in listed {
        let mb = Mailbox::from_str(r.get_ref().trim()).map_err(|e| {
            err(
                r.span().start,
                "recipients",
                format!(
                    "invalid address {:?} ({e}); expected an address such as \"analyst@example.org\" or \"Ana <ana@example.org>\"",
                    r.get_ref()
                ),
            )
        })?;
        recipients.push(mb);
    }
    let schedule = w.schedule.get_ref().trim().to_string();
    let cron = Cron::from_str(&schedule).map_err(|e| {
        err(
            w.schedule.span().start,
            "schedule",
            format!(
                "invalid cron expression {schedule:?} ({e}); expected five fields \"minute hour day-of-month month day-of-week\", e.g. \"0 8 * * 1-5\""
            ),
        )
    })?;
    let timezone = match &w.timezone {
        Some(tz) => Tz::from_str(tz.get_ref().trim()).map_err(|_| {
            err(
                tz.span().start,
                "timezone",
                format!(
                    "unknown time zone {:?}; expected an IANA name such as \"Europe/Brussels\" or \"UTC\"",
                    tz.get_ref()
                ),
            )
        })?,
        None => Tz::UTC,
    };
    // A valid expression may name a date that never comes (`0 8 31 2 *`, 31 February).
    if super::schedule::next_fire(&cron, timezone, chrono::Utc::now()).is_none() {
        return Err(err(
            w.schedule.span().start,
            "schedule",
            format!(
                "the cron expression {schedule:?} never fires (no such date in the coming years); expected a schedule that comes round, e.g. \"0 8 * * 1-5\""
            ),
        ));
    }
    Ok(Watchlist {
        name,
        topics,
        feeds,
        languages,
        min_score,
        recipients,
        webhook,
        schedule,
        cron,
        timezone,
        send_empty: w.send_empty,
    })
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, ConfigError};
    use std::path::Path;

    const FEED: &str = "[[feeds]]\nname = \"f1\"\nurl = \"https://x.eu/rss\"\n";

    fn wl(body: &str) -> String {
        format!(
            "{FEED}[[watchlists]]\nname = \"w\"\ntopics = [\"eu-nato-cyber\"]\nrecipients = [\"a@example.org\"]\n{body}"
        )
    }

    fn parse_in(dir: &Path, text: &str) -> Result<Config, ConfigError> {
        let path = dir.join("veille.toml");
        std::fs::write(&path, text).unwrap();
        Config::from_file(&path)
    }

    #[test]
    fn a_full_watch_list_and_smtp_settings_parse() {
        let dir = tempfile::tempdir().unwrap();
        let c = parse_in(
            dir.path(),
            &format!(
                "[mail]\ntransport = \"smtp\"\nfrom = \"Veille <v@example.org>\"\nsmtp_url = \"smtp://mail.example.org:587?tls=required\"\npassword_env = \"PW\"\n{}",
                wl("feeds = [\"f1\"]\nlanguages = [\"EN\", \"it\"]\nmin_score = 0.5\nschedule = \"0 8 * * 1-5\"\ntimezone = \"Europe/Brussels\"\nsend_empty = true\n")
            ),
        )
        .unwrap();
        let w = c.watchlist("w").unwrap();
        assert_eq!(w.languages, ["en", "it"]);
        assert_eq!(w.timezone, chrono_tz::Europe::Brussels);
        assert!(w.send_empty);
        assert_eq!(w.recipients[0].email.to_string(), "a@example.org");
        assert!(
            matches!(&c.mail.transport, super::TransportKind::Smtp { password_env: Some(p), .. } if p == "PW")
        );
        assert_eq!(c.mail.from.email.to_string(), "v@example.org");
    }

    #[test]
    fn bad_values_name_file_line_key_and_what_was_expected() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                "schedule = \"0 25 * * *\"\n",
                8,
                "watchlists[0].schedule",
                "expected five fields",
            ),
            (
                "schedule = \"0 8 * * *\"\ntimezone = \"Europe/Bruxelles\"\n",
                9,
                "watchlists[0].timezone",
                "IANA",
            ),
            (
                "schedule = \"0 8 * * *\"\nfeeds = [\"nope\"]\n",
                9,
                "watchlists[0].feeds",
                "unknown feed",
            ),
            (
                "schedule = \"0 8 * * *\"\nmin_score = 2.0\n",
                9,
                "watchlists[0].min_score",
                "0.0 to 1.0",
            ),
            (
                "schedule = \"0 8 * * *\"\nlanguages = [\"english\"]\n",
                9,
                "watchlists[0].languages",
                "ISO 639-1",
            ),
        ];
        for (body, line, key, expected) in cases {
            let e = parse_in(dir.path(), &wl(body)).unwrap_err();
            assert_eq!((e.line, e.key.as_deref()), (Some(line), Some(key)), "{e}");
            assert!(e.message.contains(expected), "{e}");
            assert!(e.to_string().contains("veille.toml:"), "{e}");
        }
        let e = parse_in(
            dir.path(),
            &format!("{FEED}[[watchlists]]\nname = \"w\"\ntopics = [\"eu-us-cyber\"]\nrecipients = [\"not an address\"]\nschedule = \"0 8 * * *\"\n"),
        )
        .unwrap_err();
        assert_eq!(
            (e.line, e.key.as_deref()),
            (Some(7), Some("watchlists[0].recipients")),
            "{e}"
        );
        let e = parse_in(dir.path(), "[mail]\ntransport = \"pigeon\"\n").unwrap_err();
        assert_eq!(
            (e.line, e.key.as_deref()),
            (Some(2), Some("mail.transport")),
            "{e}"
        );
        let e = parse_in(
            dir.path(),
            "[mail]\ntransport = \"smtp\"\nsmtp_url = \"smtps://u:secret@h:465\"\n",
        )
        .unwrap_err();
        assert!(e.message.contains("password_env"), "{e}");
        let e = parse_in(
            dir.path(),
            &wl("schedule = \"0 8 * * *\"\nsend_emtpy = true\n"),
        )
        .unwrap_err();
        assert_eq!(e.key.as_deref(), Some("send_emtpy"), "{e}");
    }

    #[test]
    fn a_webhook_parses_alone_or_beside_recipients_and_bad_ones_say_what_to_write() {
        let dir = tempfile::tempdir().unwrap();
        let c = parse_in(
            dir.path(),
            &format!("{FEED}[[watchlists]]\nname = \"w\"\ntopics = [\"eu-us-cyber\"]\nschedule = \"0 8 * * *\"\nwebhook = {{ url = \"https://hooks.slack.com/services/T0/B0/SECRET\", format = \"slack\" }}\n"),
        )
        .unwrap();
        let w = c.watchlist("w").unwrap();
        assert!(w.recipients.is_empty());
        let hook = w.webhook.as_ref().unwrap();
        assert_eq!(hook.format, super::WebhookFormat::Slack);
        assert!(
            !format!("{hook:?}").contains("SECRET"),
            "the URL's secret is never shown"
        );
        let c = parse_in(
            dir.path(),
            &wl("schedule = \"0 8 * * *\"\nwebhook = { url = \"http://127.0.0.1:8080/hook\" }\n"),
        )
        .unwrap();
        let w = c.watchlist("w").unwrap();
        assert_eq!(w.recipients.len(), 1);
        assert_eq!(
            w.webhook.as_ref().unwrap().format,
            super::WebhookFormat::Json,
            "json by default"
        );
        for (hook, key, expected) in [
            (
                "{ url = \"https://x.eu/h\", format = \"discord\" }",
                "watchlists[0].webhook.format",
                "\"slack\", \"teams\" or \"json\"",
            ),
            (
                "{ url = \"hooks.slack.com/services/SECRET\", format = \"slack\" }",
                "watchlists[0].webhook.url",
                "http(s)",
            ),
            (
                "{ url = \"https://x.eu/h\", fromat = \"slack\" }",
                "webhook",
                "unknown field `fromat`, expected one of `url`, `url_env`, `format`",
            ),
        ] {
            let e = parse_in(
                dir.path(),
                &wl(&format!("schedule = \"0 8 * * *\"\nwebhook = {hook}\n")),
            )
            .unwrap_err();
            assert_eq!(e.key.as_deref(), Some(key), "{e}");
            assert!(e.message.contains(expected), "{e}");
            assert!(e.to_string().contains("veille.toml:9"), "{e}");
            assert!(!e.to_string().contains("SECRET"), "{e}");
        }
        let e = parse_in(
            dir.path(),
            &format!(
                "{FEED}[[watchlists]]\nname = \"w\"\ntopics = [\"eu-us-cyber\"]\nschedule = \"0 8 * * *\"\n"
            ),
        )
        .unwrap_err();
        assert!(e.message.contains("or a `webhook`"), "{e}");
    }

    #[test]
    fn a_webhook_url_from_the_environment_needs_its_variable_and_excludes_url() {
        let dir = tempfile::tempdir().unwrap();
        let hook = |h: &str| wl(&format!("schedule = \"0 8 * * *\"\nwebhook = {h}\n"));
        for (h, key, expected) in [
            (
                "{ url_env = \"VEILLE_TEST_UNSET_HOOK_ZZ\" }",
                "watchlists[0].webhook.url_env",
                "\"VEILLE_TEST_UNSET_HOOK_ZZ\" that `url_env` names is not set",
            ),
            (
                "{ url = \"https://x.eu/SECRET\", url_env = \"HOOK\" }",
                "watchlists[0].webhook.url_env",
                "`url` or `url_env`, not both",
            ),
            (
                "{ format = \"slack\" }",
                "watchlists[0].webhook",
                "`url_env = \"NAME\"`",
            ),
            // Set, but not a URL: said without showing the value.
            (
                "{ url_env = \"PATH\" }",
                "watchlists[0].webhook.url_env",
                "invalid webhook URL",
            ),
        ] {
            let e = parse_in(dir.path(), &hook(h)).unwrap_err();
            assert_eq!(e.key.as_deref(), Some(key), "{e}");
            assert!(e.message.contains(expected), "{e}");
            assert!(e.to_string().contains("veille.toml:9"), "{e}");
            assert!(!e.to_string().contains("SECRET"), "{e}");
        }
        let path = std::env::var("PATH").unwrap();
        let e = parse_in(dir.path(), &hook("{ url_env = \"PATH\" }")).unwrap_err();
        assert!(
            !e.to_string().contains(&path),
            "the value is never shown: {e}"
        );
    }

    #[test]
    fn topics_are_checked_against_the_topic_files_when_there_are_some() {
        let dir = tempfile::tempdir().unwrap();
        let body = wl("schedule = \"0 8 * * *\"\n");
        // no topics directory: checked against the embedded rules
        assert!(parse_in(dir.path(), &body).is_ok());
        std::fs::create_dir(dir.path().join("topics")).unwrap();
        std::fs::write(dir.path().join("topics/eu-us-cyber.toml"), "").unwrap();
        let e = parse_in(dir.path(), &body).unwrap_err();
        assert_eq!(
            (e.line, e.key.as_deref()),
            (Some(6), Some("watchlists[0].topics")),
            "{e}"
        );
        assert!(
            e.message.contains("unknown topic \"eu-nato-cyber\"")
                && e.message.contains("eu-us-cyber"),
            "{e}"
        );
        std::fs::write(dir.path().join("topics/eu-nato-cyber.toml"), "").unwrap();
        assert!(parse_in(dir.path(), &body).is_ok());
    }

    #[test]
    fn watch_list_files_beside_the_config_are_read_and_located() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("watchlists")).unwrap();
        std::fs::write(
            dir.path().join("watchlists/extra.toml"),
            "[[watchlists]]\nname = \"extra\"\ntopics = [\"eu-us-cyber\"]\nrecipients = [\"b@example.org\"]\nschedule = \"*/30 * * * *\"\n",
        )
        .unwrap();
        let c = parse_in(dir.path(), &wl("schedule = \"0 8 * * *\"\n")).unwrap();
        assert_eq!(
            c.watchlists
                .iter()
                .map(|w| w.name.as_str())
                .collect::<Vec<_>>(),
            ["w", "extra"]
        );
        std::fs::write(
            dir.path().join("watchlists/extra.toml"),
            "[[watchlists]]\nname = \"w\"\ntopics = [\"eu-us-cyber\"]\nrecipients = [\"b@example.org\"]\nschedule = \"0 99 * * *\"\n",
        )
        .unwrap();
        let e = parse_in(dir.path(), &wl("schedule = \"0 8 * * *\"\n")).unwrap_err();
        assert!(e.path.ends_with("watchlists/extra.toml"), "{e}");
        assert_eq!(e.line, Some(5), "{e}");
        // same name as the main file's watch list
        std::fs::write(
            dir.path().join("watchlists/extra.toml"),
            "[[watchlists]]\nname = \"w\"\ntopics = [\"eu-us-cyber\"]\nrecipients = [\"b@example.org\"]\nschedule = \"0 9 * * *\"\n",
        )
        .unwrap();
        let e = parse_in(dir.path(), &wl("schedule = \"0 8 * * *\"\n")).unwrap_err();
        assert!(e.path.ends_with("watchlists/extra.toml"), "{e}");
        assert_eq!(
            (e.line, e.key.as_deref()),
            (Some(2), Some("watchlists[0].name")),
            "{e}"
        );
        assert!(e.message.contains("duplicate"), "{e}");
    }

    #[test]
    fn the_shipped_default_has_the_cyber_cooperation_list_on_the_outbox() {
        let c = Config::from_str(
            crate::config::DEFAULT_CONFIG,
            Path::new(crate::config::DEFAULT_CONFIG_PATH),
        )
        .unwrap();
        let w = c.watchlist("cyber-cooperation").unwrap();
        assert_eq!(w.topics, ["eu-nato-cyber", "eu-us-cyber"]);
        assert_eq!(
            (w.schedule.as_str(), w.timezone.name()),
            ("0 8 * * 1-5", "Europe/Brussels")
        );
        // The shipped file keeps the repository's data/ beside config/ (see its comment).
        assert_eq!(
            c.mail.transport,
            super::TransportKind::Outbox(Path::new("data/outbox").to_path_buf())
        );
    }

    /// Regression (issue 16, point 4): a configuration without `[storage]` or `[mail]` in
    /// `ob/veille.toml` wrote its database and mail to a `data/` outside `ob/`.
    #[test]
    fn defaults_keep_the_database_and_the_outbox_in_the_config_folder() {
        let dir = tempfile::tempdir().unwrap();
        let c = parse_in(dir.path(), FEED).unwrap();
        assert_eq!(
            c.mail.transport,
            super::TransportKind::Outbox(dir.path().join("data/outbox"))
        );
        assert_eq!(c.storage.database, dir.path().join("data/veille.db"));
        assert!(c.watchlists.is_empty());
    }

    /// Regression (issue 16, point 5): without a topics directory a watch list naming a topic
    /// that does not exist passed `check`, and could never match anything.
    #[test]
    fn a_topic_typo_is_an_error_without_a_topics_directory() {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "{FEED}[[watchlists]]\nname = \"w\"\ntopics = [\"eu-nato-cyebr\"]\nrecipients = [\"a@example.org\"]\nschedule = \"0 8 * * *\"\n"
        );
        let e = parse_in(dir.path(), &text).unwrap_err();
        assert_eq!(
            (e.line, e.key.as_deref()),
            (Some(6), Some("watchlists[0].topics")),
            "{e}"
        );
        assert!(
            e.message.contains("unknown topic \"eu-nato-cyebr\"")
                && e.message.contains("eu-nato-cyber, eu-us-cyber"),
            "{e}"
        );
    }

    /// Regression (issue 16, point 11): `check` stopped at the first mistake.
    #[test]
    fn every_mistake_is_reported_not_only_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let text = "[[feeds]]\nname = \"a\"\nurl = \"nope\"\n[[feeds]]\nname = \"b\"\nurl = \"https://x.eu/rss\"\nlanguage = \"english\"\n\
            [server]\nlisten = \"localhost\"\n[mail]\ntransport = \"pigeon\"\n\
            [[watchlists]]\nname = \"w\"\ntopics = [\"nope\"]\nfeeds = [\"a\"]\nrecipients = [\"a@example.org\"]\nschedule = \"0 8 * * *\"\n";
        let path = dir.path().join("veille.toml");
        std::fs::write(&path, text).unwrap();
        let errors = Config::load_checked(Some(&path)).unwrap_err();
        let keys: Vec<&str> = errors.iter().filter_map(|e| e.key.as_deref()).collect();
        assert_eq!(
            keys,
            [
                "feeds[0].url",
                "feeds[1].language",
                "server.listen",
                "mail.transport",
                "watchlists[0].topics"
            ],
            "{errors:#?}"
        );
    }

    /// Regression (issue 16, point 11): a `sendmail` path that does not exist passed `check`.
    #[test]
    fn a_missing_sendmail_program_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let e = parse_in(
            dir.path(),
            "[mail]\ntransport = \"sendmail\"\nsendmail = \"/nonexistent/sendmail\"\n",
        )
        .unwrap_err();
        assert_eq!(e.key.as_deref(), Some("mail.sendmail"), "{e}");
        assert!(e.message.contains("/nonexistent/sendmail"), "{e}");
        assert!(e.message.contains("does not exist"), "{e}");
    }
}
