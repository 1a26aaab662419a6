//! `veille digest`: preview a watch list's next digest, send what is due, or show digest status.
//! Times are shown in each watch list's time zone, naming the zone.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::Utc;
use chrono_tz::Tz;
use veille::config::Config;
use veille::digest::config::TransportKind;
use veille::digest::{self, Digester, Scope, render};
use veille::store::Store;

use super::{plural, zoned_time};

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
    /// Compose the digests that are due and deliver every pending one whose attempt is due
    #[arg(long)]
    send: bool,
    /// With --send: compose now whatever the schedule says (the schedule is left as it was)
    #[arg(long, requires = "send")]
    now: bool,
}

pub async fn run(config: Option<&Path>, args: &Args) -> anyhow::Result<ExitCode> {
    if args.send {
        let (config, mut store) = super::open_for_writing(config)?;
        return send(&config, &mut store, args).await;
    }
    // Preview and status only read: without a database they read an empty one in memory.
    let (config, store) = super::open_existing(config)?;
    let now = Utc::now();
    let store = match store {
        Some(s) => s,
        None => {
            // The configured feeds, none polled yet: the footer says so.
            let mut s = Store::open_in_memory()?;
            s.sync_feeds(&config.feeds, now)?;
            s
        }
    };
    if args.preview {
        let Some(name) = args.watchlist.as_deref() else {
            bail!("--preview needs --watchlist NAME");
        };
        let wl = config.watchlist(name).with_context(|| {
            format!(
                "no watch list named {name:?} in {}",
                super::config_name(&config)
            )
        })?;
        let d = digest::preview(&store, wl, now)?;
        print!("{}", render::text(&d));
        if let Some(file) = &args.html {
            std::fs::write(file, render::html(&d))
                .with_context(|| format!("writing {}", file.display()))?;
            eprintln!("HTML part written to {}", super::absolute(file).display());
        }
        return Ok(ExitCode::SUCCESS);
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
                || "not scheduled yet (the first `veille run` or `digest --send` schedules it)"
                    .into(),
                |t| zoned_time(t, wl.timezone)
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
        let tz = zone_of(&config, &d.watchlist);
        let mail = match &d.mail_status {
            Some(s) => format!(
                ", mail {s} (attempts {}){}{}",
                d.attempts,
                if s == "pending" {
                    format!(", next attempt {}", zoned_time(d.next_attempt_at, tz))
                } else {
                    String::new()
                },
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
            "  #{} {} {} {}, {}{mail}{hook}",
            d.id,
            zoned_time(d.composed_at, tz),
            d.watchlist,
            plural(d.item_count as usize, "item", "items"),
            d.status,
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `--send`: compose what is due, deliver what is pending and due, and say where each digest
/// went and which wait for a later attempt.
async fn send(config: &Config, store: &mut Store, args: &Args) -> anyhow::Result<ExitCode> {
    let now = Utc::now();
    let digester = Digester::new(config)?;
    let scope = Scope {
        watchlist: args.watchlist.as_deref(),
        force: args.now,
    };
    let r = digester.step(store, now, scope).await?;
    for (wl, id, items) in &r.composed {
        println!(
            "composed: {wl} digest {id} ({})",
            plural(*items, "item", "items")
        );
    }
    for wl in &r.skipped_empty {
        println!("nothing new: {wl}");
    }
    for (id, wl, mid) in &r.sent {
        println!("sent: {wl} digest {id} {mid} {}", destination(config, mid));
    }
    for (id, wl, e, next) in &r.failed {
        println!(
            "failed: {wl} digest {id}: {e} (kept; next attempt {})",
            zoned_time(*next, zone_of(config, wl))
        );
    }
    for (id, wl) in &r.posted {
        println!("posted: {wl} digest {id} to its webhook");
    }
    for (id, wl, e, next) in &r.post_failed {
        println!(
            "post failed: {wl} digest {id}: {e} (kept; next attempt {})",
            zoned_time(*next, zone_of(config, wl))
        );
    }
    let failed: Vec<i64> = r.failed.iter().map(|f| f.0).collect();
    let waiting: Vec<_> = store
        .waiting_digests(now, args.watchlist.as_deref())?
        .into_iter()
        .filter(|d| !failed.contains(&d.id))
        .collect();
    for d in &waiting {
        let tz = zone_of(config, &d.watchlist);
        println!(
            "pending: {} digest {} waits for its next attempt at {}{}",
            d.watchlist,
            d.id,
            zoned_time(d.next_attempt_at, tz),
            match &d.last_error {
                Some(e) => format!(
                    " ({} failed, last: {e})",
                    plural(d.attempts as usize, "attempt", "attempts")
                ),
                None => " (being sent by another veille process)".into(),
            }
        );
    }
    if r.composed.is_empty()
        && r.sent.is_empty()
        && r.failed.is_empty()
        && r.posted.is_empty()
        && r.post_failed.is_empty()
        && r.skipped_empty.is_empty()
        && waiting.is_empty()
    {
        println!("nothing due (use --now to compose regardless of the schedule)");
    }
    Ok(if r.failed.is_empty() && r.post_failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The time zone of a watch list (UTC for one no longer configured).
fn zone_of(config: &Config, watchlist: &str) -> Tz {
    config
        .watchlist(watchlist)
        .map_or(chrono_tz::UTC, |w| w.timezone)
}

/// Where a sent digest went: the `.eml` file, the SMTP server or the sendmail program.
fn destination(config: &Config, message_id: &str) -> String {
    match &config.mail.transport {
        TransportKind::Outbox(dir) => format!(
            "-> {}",
            super::absolute(&digest::transport::outbox_path(dir, message_id)).display()
        ),
        TransportKind::Smtp { url, .. } => format!(
            "-> SMTP {}:{}",
            url.host_str().unwrap_or("?"),
            url.port_or_known_default().unwrap_or(0)
        ),
        TransportKind::Sendmail(program) => format!(
            "-> {}",
            program
                .as_deref()
                .map_or("sendmail".into(), |p| p.display().to_string())
        ),
    }
}
