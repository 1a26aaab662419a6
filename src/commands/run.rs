//! `veille run`: the service loop until Ctrl-C or SIGTERM.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use veille::service;

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
    service::run(&pipeline, args.tick, service::stop_signal()).await?;
    Ok(ExitCode::SUCCESS)
}
