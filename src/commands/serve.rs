//! `veille serve`: the analyst web view alone over the configured database (no polling, no
//! mail), until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use veille::config::{Config, ServerSettings};
use veille::service;

/// Where `veille serve` listens when neither `--listen` nor `[server] listen` says.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9187";

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on [default: `[server] listen`, else 127.0.0.1:9187]; port 0 picks a
    /// free port
    #[arg(long, value_name = "IP:PORT")]
    listen: Option<SocketAddr>,
}

pub async fn run(config_path: Option<&Path>, args: &Args) -> anyhow::Result<ExitCode> {
    let config = Config::load(config_path)?;
    let listen = args
        .listen
        .or(config.server.listen)
        .unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("a valid default address"));
    if let Some(msg) = ServerSettings::exposure_error(listen, config.server.token.as_deref()) {
        anyhow::bail!("{msg} ({})", super::config_name(&config));
    }
    let app = veille::web::router(&config).with_context(|| {
        format!(
            "opening the database {} for the web view",
            config.storage.database.display()
        )
    })?;
    let signals = service::process_signals();
    let (addr, server) = veille::web::serve(listen, app, service::stopped(signals))
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    println!("veille web view at http://{addr}/ (Ctrl-C stops)");
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    tracing::info!(%addr, database = %config.storage.database.display(), "web view serving");
    server.await.context("serving the web view")?;
    Ok(ExitCode::SUCCESS)
}
