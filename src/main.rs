//! The `veille` command line: parses arguments, sets up logging, dispatches to a command.
//! The one place that prints for humans and uses `anyhow`.

mod commands;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "veille",
    version,
    about = "Watches news feeds, classifies items by topic, mails digests."
)]
struct Cli {
    /// Configuration file [default: config/veille.toml, else the embedded defaults]
    #[arg(long, global = true, env = "VEILLE_CONFIG", value_name = "PATH")]
    config: Option<PathBuf>,
    /// Log format on stderr
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Human)]
    log_format: LogFormat,
    /// Log more (-v: info for every command, -vv: debug); RUST_LOG overrides
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Poll the feeds that are due once, then exit
    Poll(commands::poll::Args),
    /// Run the service: poll feeds as they fall due until Ctrl-C or SIGTERM
    Run(commands::run::Args),
    /// Serve the analyst web view over the database (no polling) until Ctrl-C or SIGTERM
    Serve(commands::serve::Args),
    /// List feeds with their health; add, remove, import (OPML) or export them
    Feeds(commands::feeds::Args),
    /// List stored items
    Items(commands::items::Args),
    /// Digests: --preview a watch list, --send what is due, or show their status
    Digest(commands::digest::Args),
    /// Validate the configuration and exit (non-zero on error)
    Check,
    /// Print the article text of a saved page or a URL
    Extract(commands::extract::Args),
    /// Fetch a source once and print the items it would give (nothing is stored)
    PreviewSource(commands::preview_source::Args),
    /// Show the topics, score and evidence of texts or pages (first line = title)
    Classify(commands::classify::Args),
    /// Write a consistent copy of the database to FILE (safe while the service runs)
    Backup(commands::backup::Args),
    /// Apply the retention of [storage] now: prune old items, shrink the file (--dry-run counts)
    Prune(commands::prune::Args),
    /// Re-run the topic rules over the stored items and report what changed
    Reclassify(commands::reclassify::Args),
    /// Fetch again the article pages that gave no text (once the cause is fixed)
    Refetch(commands::refetch::Args),
    /// Score the topic classifier on a labelled corpus (labels.tsv + texts), or --judged
    Eval(commands::eval::Args),
    /// Fit the topic models on labelled corpora; report cross-validated figures
    Fit(commands::fit::Args),
    /// Write the judged items as a labelled corpus (the layout `veille eval DIR` reads)
    ExportLabels(commands::export_labels::Args),
    /// Score article extraction on a benchmark directory (html/*.html.gz + ground-truth.json)
    EvalExtract(commands::eval_extract::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(
        cli.command,
        Command::Items(_)
            | Command::Feeds(_)
            | Command::Extract(_)
            | Command::PreviewSource(_)
            | Command::Check
            | Command::Classify(_)
            | Command::Eval(_)
            | Command::Fit(_)
    ) {
        // Printing commands end quietly when their reader goes away (`veille items | head`),
        // like other Unix tools, instead of panicking on a broken pipe.
        restore_sigpipe();
    }
    let quiet_default = !matches!(cli.command, Command::Run(_) | Command::Serve(_));
    init_logging(cli.log_format, cli.verbose, quiet_default);
    veille::service::memory::limit_arenas();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let config = cli.config.as_deref();
    let result = runtime.block_on(async {
        match &cli.command {
            Command::Poll(args) => commands::poll::run(config, args).await,
            Command::Run(args) => commands::run::run(config, args).await,
            Command::Serve(args) => commands::serve::run(config, args).await,
            Command::Feeds(args) => commands::feeds::run(config, args).await,
            Command::Items(args) => commands::items::run(config, args),
            Command::Digest(args) => commands::digest::run(config, args).await,
            Command::Check => commands::check(config),
            Command::Extract(args) => commands::extract::run(config, args).await,
            Command::Classify(args) => commands::classify::run(config, args),
            Command::Eval(args) => commands::eval::run(config, args),
            Command::Fit(args) => commands::fit::run(config, args),
            Command::ExportLabels(args) => commands::export_labels::run(config, args),
            Command::Reclassify(args) => commands::reclassify::run(config, args),
            Command::Prune(args) => commands::prune::run(config, args),
            Command::Backup(args) => commands::backup::run(config, args),
            Command::Refetch(args) => commands::refetch::run(config, args).await,
            Command::EvalExtract(args) => commands::eval_extract::run(args),
            Command::PreviewSource(args) => commands::preview_source::run(config, args).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", message(&commands::name_database(config, e)));
            ExitCode::FAILURE
        }
    }
}

/// An error and its causes on one line, each cause once: an error that already quotes its
/// cause (`cannot read F: No such file…`) is not followed by the cause again.
fn message(e: &anyhow::Error) -> String {
    let mut out = e.to_string();
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
    }
    out
}

/// Colours only for a person at a terminal: not in files or pipes, and never with `NO_COLOR`
/// set (<https://no-color.org>).
fn use_colour() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

#[cfg(unix)]
fn restore_sigpipe() {
    // SAFETY: called once at start-up, before any thread exists; SIG_DFL is a valid disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn restore_sigpipe() {}

fn init_logging(format: LogFormat, verbose: u8, quiet_default: bool) {
    let level = match (verbose, quiet_default) {
        (0, true) => "error",
        (0, false) | (1, _) => "info",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("veille={level},warn")));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(use_colour())
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}
