//! One module per subcommand: arguments, then a `run` that calls the library and prints.

pub mod backup;
pub mod classify;
pub mod digest;
pub mod eval;
pub mod eval_extract;
pub mod export_labels;
pub mod extract;
pub mod feeds;
pub mod fit;
pub mod items;
pub mod poll;
pub mod preview_source;
pub mod prune;
pub mod reclassify;
pub mod refetch;
pub mod run;
pub mod serve;

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use veille::config::Config;
use veille::digest::config::TransportKind;
use veille::pipeline::Pipeline;
use veille::store::Store;

/// `veille check`: validate the configuration, every mistake at once, and say where every file
/// it names is (or will be) written.
pub fn check(path: Option<&Path>) -> anyhow::Result<ExitCode> {
    let config = match Config::load_checked(path) {
        Ok(c) => c,
        Err(errors) => {
            for e in &errors {
                eprintln!("error: {e}");
            }
            eprintln!(
                "{}: configuration invalid",
                plural(errors.len(), "error", "errors")
            );
            return Ok(ExitCode::FAILURE);
        }
    };
    let classifier = veille::pipeline::classify::Classifier::load(&config.classifier.topics_dir)?;
    let disabled = config.feeds.iter().filter(|f| !f.enabled).count();
    println!(
        "{}: ok ({}{}, {}, {} from {})",
        config_name(&config),
        plural(config.feeds.len(), "feed", "feeds"),
        if disabled > 0 {
            format!(" of which {disabled} disabled")
        } else {
            String::new()
        },
        plural(config.watchlists.len(), "watch list", "watch lists"),
        plural(classifier.topics().len(), "topic", "topics"),
        classifier
            .source()
            .map_or("the embedded rules".into(), |p| p.display().to_string()),
    );
    let db = &config.storage.database;
    println!(
        "  database  {}{}",
        absolute(db).display(),
        if db.exists() {
            ""
        } else {
            " (not created yet)"
        }
    );
    match &config.mail.transport {
        TransportKind::Outbox(dir) => println!(
            "  mail      written as .eml files to {}",
            absolute(dir).display()
        ),
        TransportKind::Smtp { url, .. } => println!(
            "  mail      sent by SMTP to {}:{}",
            url.host_str().unwrap_or("?"),
            url.port_or_known_default().unwrap_or(0)
        ),
        TransportKind::Sendmail(program) => println!(
            "  mail      handed to {}",
            program
                .as_deref()
                .map_or("sendmail (found on PATH)".into(), |p| p
                    .display()
                    .to_string())
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// The configuration's file, or what stands in for it when none was read.
pub fn config_name(config: &Config) -> String {
    if config.embedded {
        let cwd = std::env::current_dir().unwrap_or_default();
        format!(
            "embedded defaults (no {} in {})",
            veille::config::DEFAULT_CONFIG_PATH,
            cwd.display()
        )
    } else {
        config.path.display().to_string()
    }
}

/// `path` made absolute against the working directory (for saying where files go).
pub fn absolute(path: &Path) -> std::path::PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Loads the configuration and opens its database.
pub fn open(path: Option<&Path>) -> anyhow::Result<(Config, Store)> {
    let config = Config::load(path)?;
    let db = &config.storage.database;
    let created = !db.exists();
    let store = Store::open(db).with_context(|| database_named(&config))?;
    if created {
        eprintln!("created the database {}", absolute(db).display());
    }
    Ok((config, store))
}

/// Loads the configuration and opens its database if it exists: for commands that only read,
/// which never create one.
pub fn open_existing(path: Option<&Path>) -> anyhow::Result<(Config, Option<Store>)> {
    let config = Config::load(path)?;
    let store =
        Store::open_existing(&config.storage.database).with_context(|| database_named(&config))?;
    Ok((config, store))
}

/// Loads the configuration, opens its database and checks that it can be written.
pub fn open_for_writing(path: Option<&Path>) -> anyhow::Result<(Config, Store)> {
    let (config, mut store) = open(path)?;
    store
        .check_writable()
        .with_context(|| database_named(&config))?;
    Ok((config, store))
}

/// Loads the configuration and builds the pipeline on its database.
pub fn pipeline(path: Option<&Path>) -> anyhow::Result<(Config, Pipeline)> {
    let (config, store) = open_for_writing(path)?;
    let pipeline = Pipeline::new(&config, store)?;
    Ok((config, pipeline))
}

/// "opening the database named in FILE" (or in the embedded defaults).
pub fn database_named(config: &Config) -> String {
    format!("opening the database named in {}", config_name(config))
}

/// Names the database file in a storage error whose message does not (SQLite's messages never
/// say which file): "database data/veille.db: database disk image is malformed". `config` is
/// the `--config` of the command that failed.
pub fn name_database(config: Option<&Path>, e: anyhow::Error) -> anyhow::Error {
    match Config::load(config) {
        Ok(config) => storage_context(&config, e),
        Err(_) => e,
    }
}

fn storage_context(config: &Config, e: anyhow::Error) -> anyhow::Error {
    // Transparent wrappers hide the store error from the chain: look through them.
    let storage = e.chain().any(|c| {
        c.downcast_ref::<veille::error::StoreError>().is_some()
            || c.downcast_ref::<rusqlite::Error>().is_some()
            || c.downcast_ref::<veille::digest::DigestError>()
                .is_some_and(|d| matches!(d, veille::digest::DigestError::Store(_)))
            || c.downcast_ref::<veille::pipeline::PipelineError>()
                .is_some_and(|p| matches!(p, veille::pipeline::PipelineError::Store(_)))
    });
    let path = config.storage.database.display().to_string();
    if storage && !format!("{e:#}").contains(&path) {
        e.context(format!("database {path}"))
    } else {
        e
    }
}

/// A time for tables: `2026-11-24 08:30` in UTC, or `-`.
pub fn short_time(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map_or_else(|| "-".into(), |t| t.format("%Y-%m-%d %H:%M").to_string())
}

/// A time for sentences, in a time zone and naming it: `2026-12-04 08:00 CET`.
pub fn zoned_time(t: chrono::DateTime<chrono::Utc>, tz: chrono_tz::Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string()
}

/// `1 item`, `2 items`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Parses `--since`: a date (2026-11-01), an RFC 3339 timestamp or an age (36h, 7d).
pub fn parse_since(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    use chrono::{DateTime, NaiveDate, Utc};
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    if let Ok(age) = humantime::parse_duration(s) {
        let age = veille::duration::AGE.check(age)?;
        let age = chrono::Duration::from_std(age).map_err(|e| e.to_string())?;
        return Utc::now()
            .checked_sub_signed(age)
            .ok_or_else(|| format!("the age {s:?} reaches before the calendar starts"));
    }
    Err(format!(
        "expected a date (2026-11-01), an RFC 3339 timestamp or an age (36h, 7d), got {s:?}"
    ))
}
