//! `veille export-labels DIR`: the judged items as a labelled corpus in the layout `veille eval`
//! reads, to tune the rules on real traffic.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Directory to write `labels.tsv`, `judgements.tsv` and `docs/` into (created if missing)
    dir: PathBuf,
    /// Overwrite an existing `labels.tsv`
    #[arg(long)]
    force: bool,
}

pub fn run(config: Option<&Path>, args: &Args) -> anyhow::Result<ExitCode> {
    let (_, store) = super::open(config)?;
    let done = veille::eval::judged::export(&store, &args.dir, args.force)?;
    println!(
        "{} judged items written to {} (score them with `veille eval {}`)",
        done.items,
        done.labels.display(),
        args.dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
