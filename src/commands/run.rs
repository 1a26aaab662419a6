//! `veille run`: the service loop until Ctrl-C or SIGTERM.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use veille::digest::{self, Digester};
use veille::service;
use veille::store::Store;

#[derive(clap::Args)]
pub struct Args {
    /// How often to look for due feeds
    #[arg(long, value_parser = humantime::parse_duration, default_value = "15s")]
    tick: Duration,
}

pub async fn run(config: Option<&Path>, args: &Args) -> anyhow::Result<ExitCode> {
    let (config, pipeline) = super::pipeline(config)?;
    tracing::info!(config = %config.path.display(), database = %config.storage.database.display(),
        feeds = config.feeds.len(), "veille starting");
    let digests = if config.watchlists.is_empty() {
        None
    } else {
        let store =
            Store::open(&config.storage.database).context("opening the database for digests")?;
        let digester = Digester::new(&config).context("setting up the mail transport ([mail])")?;
        tracing::info!(watchlists = config.watchlists.len(), "digests enabled");
        Some(digest::Service::new(store, digester))
    };
    service::run_with_digests(&pipeline, digests, args.tick, service::stop_signal()).await?;
    Ok(ExitCode::SUCCESS)
}
