//! `veille backup FILE`: a consistent copy of the database, safe while the service runs.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Where to write the copy (a new file; see --force)
    file: PathBuf,
    /// Replace FILE if it exists
    #[arg(long)]
    force: bool,
}

pub fn run(config: Option<&Path>, args: &Args) -> anyhow::Result<ExitCode> {
    let (config, store) = super::open(config)?;
    let r = store.backup_to(&args.file, args.force)?;
    println!(
        "backup: {} → {} ({:.1} MiB, {} items, {:.1} s); integrity check ok",
        config.storage.database.display(),
        r.path.display(),
        r.bytes as f64 / (1024.0 * 1024.0),
        r.items,
        r.elapsed.as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
