//! Throwaway entry point of the `extract` branch (the lead's main.rs replaces it).

use clap::Parser;
use std::process::ExitCode;
use veille::commands;

#[derive(Parser)]
#[command(name = "veille")]
enum Cli {
    /// Extract the article text of a page.
    Extract(commands::extract::Args),
    /// Score article extraction on a benchmark directory.
    EvalExtract(commands::eval_extract::Args),
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    match Cli::parse() {
        Cli::Extract(args) => commands::extract::run(&args).await,
        Cli::EvalExtract(args) => commands::eval_extract::run(&args).await,
    }
}
