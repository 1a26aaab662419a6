//! Measures each hostile-server case in a fresh process: wall time of the poll, peak RSS
//! (VmHWM) and the error recorded for the hostile feed, beside a baseline (a healthy feed only)
//! measured in the same run.
//!
//! ```sh
//! cargo run --release --example hostile            # every case, a Markdown table
//! cargo run --release --example hostile -- /gzip-bomb /slowloris
//! ```
//!
//! The cases and their server live in `tests/it/hostile_server.rs` (shared with the tests).

#[path = "../tests/it/hostile_server.rs"]
mod hostile_server;

use std::process::Command;
use std::time::Instant;

use hostile_server::{CASES, HostileServer};
use veille::config::Config;
use veille::pipeline::{Outcome, Pipeline};
use veille::store::Store;

const BASELINE: &str = "/good";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        child(&args[1]);
        return;
    }
    let wanted: Vec<&str> = if args.is_empty() {
        CASES.iter().map(|(p, _)| *p).collect()
    } else {
        args.iter().map(String::as_str).collect()
    };
    let exe = std::env::current_exe().expect("own path");
    println!(
        "| case | what the server does | wall time | peak RSS | ratio to baseline | recorded outcome |"
    );
    println!("|---|---|---:|---:|---:|---|");
    let mut base_rss = None;
    for case in std::iter::once(BASELINE).chain(wanted) {
        let out = Command::new(&exe)
            .args(["--child", case])
            .output()
            .expect("run a child");
        let line = String::from_utf8_lossy(&out.stdout);
        let mut parts = line.trim().splitn(3, '\t');
        let (ms, kb, outcome) = (
            parts.next().unwrap_or("?").to_string(),
            parts.next().unwrap_or("0").parse::<u64>().unwrap_or(0),
            parts.next().unwrap_or("(child failed)").to_string(),
        );
        let base = *base_rss.get_or_insert(kb.max(1));
        let what = CASES
            .iter()
            .find(|(p, _)| *p == case)
            .map_or("baseline: the healthy feed only", |(_, w)| *w);
        println!(
            "| `{case}` | {what} | {ms} ms | {:.1} MiB | {:.2} | {outcome} |",
            kb as f64 / 1024.0,
            kb as f64 / base as f64
        );
    }
}

/// Polls `case` beside the healthy feed and prints `wall_ms \t vmhwm_kb \t outcome`.
fn child(case: &str) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let server = HostileServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("veille.toml");
        std::fs::write(&file, server.config(case)).unwrap();
        let config = Config::from_file(&file).unwrap();
        let p = Pipeline::new(&config, Store::open(&config.storage.database).unwrap()).unwrap();
        let start = Instant::now();
        let mut outcome = String::new();
        let mut good_ok = false;
        p.poll(true, |r, _| {
            if r.feed == "hostile" {
                outcome = describe(&r.outcome);
            } else {
                good_ok = matches!(r.outcome, Outcome::Updated { new: 3, .. });
            }
        })
        .await
        .unwrap();
        let ms = start.elapsed().as_millis();
        let good = if good_ok { "" } else { " (GOOD FEED AFFECTED)" };
        println!("{ms}\t{}\t{outcome}{good}", vm_hwm_kb());
    });
}

fn describe(o: &Outcome) -> String {
    match o {
        Outcome::Updated {
            items,
            new,
            capped_from,
            ..
        } => match capped_from {
            Some(n) => format!("ok: {new} new of {items} kept (capped from {n})"),
            None => format!("ok: {new} new of {items}"),
        },
        Outcome::NotModified => "not modified".into(),
        Outcome::Failed { error, .. } => format!("failed: {error}"),
    }
}

/// Peak resident set size of this process, from `/proc/self/status` (0 where unavailable).
fn vm_hwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}
