//! `veille digest`: preview a watch list's next digest, send what is due, or show digest status.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::Utc;
use veille::digest::{self, Digester, Scope, render};

#[derive(clap::Args)]
pub struct Args {
    /// The watch list (required with --preview; with --send, only this one)
    #[arg(long, value_name = "NAME")]
    watchlist: Option<String>,
    /// Print the next digest's text part without recording or sending anything
    #[arg(long, conflicts_with = "send")]
    preview: bool,
    /// With --preview: also write the HTML part to this file
    #[arg(long, value_name = "FILE", requires = "preview")]
    html: Option<PathBuf>,
    /// Compose the digests that are due and deliver every pending one
    #[arg(long)]
    send: bool,
    /// With --send: compose now whatever the schedule says (the schedule is left as it was)
    #[arg(long, requires = "send")]
    now: bool,
}

pub async fn run(config: Option<&Path>, args: &Args) -> anyhow::Result<ExitCode> {
    let (config, mut store) = super::open(config)?;
    let now = Utc::now();
    if args.preview {
        let Some(name) = args.watchlist.as_deref() else {
            bail!("--preview needs --watchlist NAME");
        };
        let wl = config.watchlist(name).with_context(|| {
            format!("no watch list named {name:?} in {}", config.path.display())
        })?;
        let d = digest::preview(&store, wl, now)?;
        print!("{}", render::text(&d));
        if let Some(file) = &args.html {
            std::fs::write(file, render::html(&d))
                .with_context(|| format!("writing {}", file.display()))?;
            eprintln!("HTML part written to {}", file.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.send {
        store
            .check_writable()
            .with_context(|| super::database_named(&config))?;
        let digester = Digester::new(&config)?;
        let scope = Scope {
            watchlist: args.watchlist.as_deref(),
            force: args.now,
        };
        let r = digester.step(&mut store, now, scope).await?;
        for (wl, id, items) in &r.composed {
            println!("composed: {wl} digest {id} ({items} items)");
        }
        for wl in &r.skipped_empty {
            println!("nothing new: {wl}");
        }
        for (id, wl, mid) in &r.sent {
            println!("sent: {wl} digest {id} {mid}");
        }
        for (id, wl, e, next) in &r.failed {
            println!(
                "failed: {wl} digest {id}: {e} (kept; next attempt {})",
                super::short_time(Some(*next))
            );
        }
        for (id, wl) in &r.posted {
            println!("posted: {wl} digest {id} to its webhook");
        }
        for (id, wl, e, next) in &r.post_failed {
            println!(
                "post failed: {wl} digest {id}: {e} (kept; next attempt {})",
                super::short_time(Some(*next))
            );
        }
        if r.composed.is_empty()
            && r.sent.is_empty()
            && r.failed.is_empty()
            && r.posted.is_empty()
            && r.post_failed.is_empty()
            && r.skipped_empty.is_empty()
        {
            println!("nothing due (use --now to compose regardless of the schedule)");
        }
        return Ok(if r.failed.is_empty() && r.post_failed.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    // Status: each watch list's schedule, then recent digests.
    for wl in &config.watchlists {
        let next = store.watch_state(&wl.name)?.map(|s| s.next_fire_at);
        println!(
            "{}: {} ({}), next {}, topics {}, to {}{}",
            wl.name,
            wl.schedule,
            wl.timezone.name(),
            next.map_or_else(
                || "not scheduled yet".into(),
                |t| super::short_time(Some(t))
            ),
            wl.topics.join(","),
            wl.recipients
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            wl.webhook
                .as_ref()
                .map(|h| format!(
                    "; webhook {} ({})",
                    h.url.host_str().unwrap_or("?"),
                    h.format.as_str()
                ))
                .unwrap_or_default()
        );
    }
    for d in store.digests(args.watchlist.as_deref())?.iter().take(20) {
        let mail = match &d.mail_status {
            Some(s) => format!(
                ", mail {s} (attempts {}){}",
                d.attempts,
                d.last_error
                    .as_deref()
                    .map(|e| format!(", last error: {e}"))
                    .unwrap_or_default()
            ),
            None => String::new(),
        };
        let hook = match &d.webhook {
            Some(w) => format!(
                ", webhook {} (attempts {}){}",
                w.status,
                w.attempts,
                w.last_error
                    .as_deref()
                    .map(|e| format!(", last error: {e}"))
                    .unwrap_or_default()
            ),
            None => String::new(),
        };
        println!(
            "  #{} {} {} {} items, {}{mail}{hook}",
            d.id,
            super::short_time(Some(d.composed_at)),
            d.watchlist,
            d.item_count,
            d.status,
        );
    }
    Ok(ExitCode::SUCCESS)
}
