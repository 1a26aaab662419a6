//! `veille run`: the service loop until Ctrl-C or SIGTERM; SIGHUP reloads the configuration.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use veille::config::DEFAULT_CONFIG_PATH;
use veille::digest::{self, Digester};
use veille::service;
use veille::store::Store;

#[derive(clap::Args)]
pub struct Args {
    /// How often to look for due feeds
    #[arg(long, value_parser = humantime::parse_duration, default_value = "15s")]
    tick: Duration,
}

pub async fn run(config_path: Option<&Path>, args: &Args) -> anyhow::Result<ExitCode> {
    let (config, pipeline) = super::pipeline(config_path)?;
    let file = config_path.map(Path::to_path_buf).or_else(|| {
        Path::new(DEFAULT_CONFIG_PATH)
            .exists()
            .then(|| DEFAULT_CONFIG_PATH.into())
    });
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
    let svc = service::service(pipeline, file, digests);
    svc.set_retention(config.storage.retention());
    let signals = service::process_signals();
    let retention = service::spawn_retention(
        svc.clone(),
        config.storage.database.clone(),
        signals.clone(),
    );
    let server = match config.server.listen {
        Some(listen) => {
            let web = veille::web::router(&config).context("setting up the web view")?;
            let (addr, server) = service::http::bind(
                listen,
                svc.clone(),
                Some(web),
                service::stopped(signals.clone()),
            )
            .await
            .with_context(|| {
                format!(
                    "cannot listen on {listen} (server.listen in {})",
                    config.path.display()
                )
            })?;
            tracing::info!(%addr, "web view at http://{addr}/, health and metrics at /health and /metrics");
            Some(tokio::spawn(server))
        }
        None => None,
    };
    service::run(&svc, args.tick, signals).await?;
    if let Some(server) = server {
        let _ = server.await;
    }
    let _ = retention.await;
    Ok(ExitCode::SUCCESS)
}
