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
pub mod run;
pub mod serve;

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use veille::config::Config;
use veille::pipeline::Pipeline;
use veille::store::Store;

/// `veille check`: validate the configuration.
pub fn check(path: Option<&Path>) -> anyhow::Result<ExitCode> {
    let config = Config::load(path)?;
    let classifier = veille::pipeline::classify::Classifier::load(&config.classifier.topics_dir)?;
    println!(
        "{}: ok ({} feeds, {} watch lists, {} topics from {}, database {})",
        config.path.display(),
        config.feeds.len(),
        config.watchlists.len(),
        classifier.topics().len(),
        classifier
            .source()
            .map_or("the embedded rules".into(), |p| p.display().to_string()),
        config.storage.database.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Loads the configuration and opens its database.
pub fn open(path: Option<&Path>) -> anyhow::Result<(Config, Store)> {
    let config = Config::load(path)?;
    let store = Store::open(&config.storage.database).with_context(|| database_named(&config))?;
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

/// "the database named in FILE".
pub fn database_named(config: &Config) -> String {
    format!("opening the database named in {}", config.path.display())
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

/// A time for humans: `2026-11-24 08:30` in UTC, or `-`.
pub fn short_time(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map_or_else(|| "-".into(), |t| t.format("%Y-%m-%d %H:%M").to_string())
}
