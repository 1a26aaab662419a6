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
    /// How often to look for due feeds (10ms to 1h)
    #[arg(long, value_parser = parse_tick, default_value = "15s")]
    tick: Duration,
}

fn parse_tick(s: &str) -> Result<Duration, String> {
    veille::duration::parse_within(s, veille::duration::TICK)
}

pub async fn run(config_path: Option<&Path>, args: &Args) -> anyhow::Result<ExitCode> {
    let (config, pipeline) = super::pipeline(config_path)?;
    let file = config_path.map(Path::to_path_buf).or_else(|| {
        Path::new(DEFAULT_CONFIG_PATH)
            .exists()
            .then(|| DEFAULT_CONFIG_PATH.into())
    });
    let enabled = config.feeds.iter().filter(|f| f.enabled).count();
    tracing::info!(config = %super::config_name(&config),
        database = %super::absolute(&config.storage.database).display(),
        feeds = enabled, disabled_feeds = config.feeds.len() - enabled, "veille starting");
    // The digest part always exists, so that a reload can bring watch lists.
    let store =
        Store::open(&config.storage.database).with_context(|| super::database_named(&config))?;
    let digests = if config.watchlists.is_empty() {
        digest::Service::idle(store)
    } else {
        let digester = Digester::new(&config).context("setting up the mail transport ([mail])")?;
        let mail = match &config.mail.transport {
            digest::config::TransportKind::Outbox(dir) => {
                format!("outbox {}", super::absolute(dir).display())
            }
            digest::config::TransportKind::Smtp { url, .. } => {
                format!("smtp {}", url.host_str().unwrap_or("?"))
            }
            digest::config::TransportKind::Sendmail(p) => format!(
                "sendmail {}",
                p.as_deref()
                    .map_or("(on PATH)".into(), |p| p.display().to_string())
            ),
        };
        tracing::info!(watchlists = config.watchlists.len(), mail = %mail, "digests enabled");
        digest::Service::new(store, digester)
    };
    let svc = service::service(pipeline, file, Some(digests));
    svc.started_with(&config);
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
                    super::config_name(&config)
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
