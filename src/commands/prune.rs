//! `veille prune`: apply the retention of `[storage]` now (the service does it once a day).

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use veille::service::retention;

#[derive(clap::Args)]
pub struct Args {
    /// Count what would be pruned; change nothing
    #[arg(long)]
    dry_run: bool,
    /// Rewrite a database made before veille 0.1 used incremental vacuum so that its file can
    /// shrink (once; takes the write lock while the whole file is copied: stop the service first)
    #[arg(long)]
    vacuum: bool,
}

/// The exit code of a prune stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it).
const INTERRUPTED: u8 = 130;

pub fn run(config: Option<&Path>, args: &Args) -> anyhow::Result<ExitCode> {
    let stop = Arc::new(AtomicBool::new(false));
    stop_on_signal(Arc::clone(&stop))?;
    let (config, mut store) = super::open(config)?;
    let keep = config.storage.retention();
    let shown =
        |d: Option<std::time::Duration>| d.map_or("forever".to_string(), veille::duration::show);
    println!(
        "retention ({}): items that matched no topic are kept {}, matched items {}; judged items and items carried by a digest are always kept",
        config.path.display(),
        shown(keep.keep_items),
        shown(keep.keep_matches)
    );
    let r = retention::run(&mut store, &keep, chrono::Utc::now(), args.dry_run, &stop)?;
    let verb = if r.dry_run { "would prune" } else { "pruned" };
    println!(
        "{verb} {} items ({} that matched no topic, {} matched); {} old enough but kept (judged or in a digest); {} items looked at",
        r.pruned(),
        r.unmatched,
        r.matched,
        r.kept,
        r.scanned
    );
    if !r.dry_run {
        println!(
            "{} tombstones written, {} expired; {} batches ({} cut short by the {} ms budget), {} search index merge steps, {} vacuum steps, {} pauses, in {:.1} s",
            r.tombstones,
            r.tombstones_expired,
            r.batches,
            r.batches_cut_short,
            retention::BUDGET.as_millis(),
            r.merge_steps,
            r.vacuum_steps,
            r.pauses,
            r.elapsed.as_secs_f64()
        );
        let ms = |d: std::time::Duration| d.as_millis();
        println!(
            "longest transactions: prune batch {} ms (slowest item {} ms, commit {} ms), tombstone expiry {} ms, search index merge {} ms, vacuum {} ms; checkpoint {} ms",
            ms(r.longest_batch),
            ms(r.slowest_item),
            ms(r.longest_commit),
            ms(r.longest_expiry),
            ms(r.longest_merge),
            ms(r.longest_vacuum),
            ms(r.checkpoint)
        );
    }
    if r.interrupted {
        println!(
            "stopped by a signal between two transactions: what was pruned stays pruned; run `veille prune` again to go on"
        );
    } else if args.vacuum && !args.dry_run && r.cannot_shrink {
        println!("rewriting the database in incremental vacuum mode (VACUUM; this takes a while)…");
        store.enable_incremental_vacuum()?;
    }
    let after = store.file_stats()?;
    println!(
        "database {}: {} before, {} now ({} free inside the file)",
        config.storage.database.display(),
        mib(r.bytes_before),
        mib(after.bytes()),
        mib(after.free_bytes())
    );
    if !after.incremental() && !args.dry_run {
        println!(
            "note: this database was made before incremental vacuum: freed space is reused but the file does not shrink; run `veille prune --vacuum` once, with the service stopped"
        );
    }
    Ok(if r.interrupted {
        ExitCode::from(INTERRUPTED)
    } else {
        ExitCode::SUCCESS
    })
}

/// Sets `stop` on Ctrl-C or SIGTERM, so that a long prune (a first one on a year's database
/// takes hours) ends between two transactions and says what it did, instead of dying with its
/// report. The handlers are installed before this returns: a signal that comes after cannot
/// kill the process mid-run.
#[cfg(unix)]
fn stop_on_signal(stop: Arc<AtomicBool>) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    tokio::spawn(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        tracing::warn!("stopping the prune after its current transaction");
        stop.store(true, Ordering::Relaxed);
    });
    Ok(())
}

#[cfg(not(unix))]
fn stop_on_signal(_stop: Arc<AtomicBool>) -> anyhow::Result<()> {
    Ok(())
}

fn mib(bytes: i64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}
