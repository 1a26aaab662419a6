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
    let store = Store::open(&config.storage.database)
        .with_context(|| format!("opening the database named in {}", config.path.display()))?;
    Ok((config, store))
}

/// Loads the configuration and builds the pipeline on its database.
pub fn pipeline(path: Option<&Path>) -> anyhow::Result<(Config, Pipeline)> {
    let (config, store) = open(path)?;
    let pipeline = Pipeline::new(&config, store)?;
    Ok((config, pipeline))
}

/// A time for humans: `2026-11-24 08:30` in UTC, or `-`.
pub fn short_time(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map_or_else(|| "-".into(), |t| t.format("%Y-%m-%d %H:%M").to_string())
}
