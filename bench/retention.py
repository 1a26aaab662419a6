#!/usr/bin/env python3
"""Retention benchmark: a simulated year, then `veille prune` while polls go on.

1. `bench-year` (bench/year.rs) writes a year of items through veille's store (`--per-day` items a
   day, real article texts from ../shared/extraction-benchmark when present) into a new database;
   its size is the size without retention.
2. A loopback feed server (bench/server.rs) serves `--poll-feeds` feeds whose every item changes
   from one round to the next (a new seed each round), so that each poll writes; `veille poll`
   polls them into the same database, a few rounds before the prune (baseline), then round after
   round while `veille prune` runs (keep_items = "180d"), then after.
3. Prints the database size before and after, the prune time, and each feed's refresh time
   (fetch, parse, store: the store waits for the write lock) before and during the prune, and
   apart from it the time the refresh's writes waited for the write lock (`lock_wait_ms` of the
   poll's log; binaries from before it was logged show none): what "blocked" means.

    cargo build --release --bin veille --example bench-server --example bench-year
    python3 bench/retention.py                      # 10,000 items a day (~19 GB of disk, as much again to --keep-year)
    python3 bench/retention.py --per-day 2500       # a quarter of that
    # generate a year once, keep it, then measure two binaries on copies of the same year:
    python3 bench/retention.py --per-day 2500 --keep-year /tmp/year-2500.db --veille target/base-veille
    python3 bench/retention.py --per-day 2500 --keep-year /tmp/year-2500.db
    # a first prune of a big year takes hours (its vacuum): measure its first hour only
    python3 bench/retention.py --per-day 10000 --prune-minutes 60
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from common import DATA, ROOT, SERVER, VEILLE, machine, need_binaries

YEAR = ROOT / "target" / os.environ.get("VEILLE_PROFILE", "release") / "examples" / "bench-year"
# The extraction benchmark beside the repository (../shared), or beside the directory of a git
# worktree (/work/wt/NAME/../../shared): without it the article texts are synthetic, which
# compress far better than real ones and make the database look smaller than it will be.
TEXTS = next(
    (p for p in (d / "shared" / "extraction-benchmark" / "ground-truth.json"
                 for d in (ROOT.parent, ROOT.parent.parent)) if p.exists()),
    ROOT.parent / "shared" / "extraction-benchmark" / "ground-truth.json",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def size(db: Path) -> int:
    c = sqlite3.connect(db)
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.close()
    return db.stat().st_size


def poll_round(veille: Path, config: Path, port: int, feeds: int, seed: int) -> list[tuple[float, float | None]]:
    """One poll of every feed, each item changed since the last round: per feed, the refresh's
    elapsed ms and how long its writes waited for the write lock (None when not logged)."""
    server = subprocess.Popen([str(SERVER), "--feeds", str(feeds), "--items", "20", "--seed", str(seed),
                               "--port", str(port)], stdout=subprocess.PIPE, text=True)
    server.stdout.readline()
    try:
        out = subprocess.run([str(veille), "--config", str(config), "--log-format", "json", "-v",
                              "poll", "--all"], capture_output=True, text=True)
    finally:
        server.terminate()
        server.wait()
    if out.returncode != 0:
        sys.exit(f"poll failed: {out.stderr[-500:]}")
    times = []
    for line in out.stderr.splitlines():
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if e.get("message") in ("feed refreshed", "feed not modified", "feed failed"):
            if e.get("message") == "feed failed":
                print(f"  feed failed: {e.get('error')}", flush=True)
            wait = e.get("lock_wait_ms")
            times.append((float(e.get("elapsed_ms", 0)), None if wait is None else float(wait)))
    return times


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--per-day", type=int, default=10_000)
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--poll-feeds", type=int, default=20)
    p.add_argument("--reuse", action="store_true", help="keep an existing generated database")
    p.add_argument("--keep-year", type=Path, metavar="PATH",
                   help="copy the generated year from PATH when it exists, else generate it and save "
                        "a copy there (so that two binaries are measured on the same year)")
    p.add_argument("--veille", type=Path, default=VEILLE,
                   help="the veille binary that polls and prunes (e.g. one built from main)")
    p.add_argument("--prune-minutes", type=float, metavar="M",
                   help="stop the prune with SIGTERM after M minutes (it ends between two "
                        "transactions and prints its report): the figures then cover that much of it")
    p.add_argument("--texts", type=Path, default=TEXTS,
                   help="the extraction benchmark's ground-truth.json (real article texts)")
    args = p.parse_args()
    need_binaries()
    veille = args.veille.resolve()
    if not veille.exists():
        sys.exit(f"{veille} does not exist")
    if not YEAR.exists():
        sys.exit("build bench-year first: cargo build --release --example bench-year")
    root = DATA / "year"
    db = root / "veille.db"
    if not args.reuse:
        shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine()}", flush=True)
    print(f"veille: {veille}", flush=True)
    if not db.exists() and args.keep_year and args.keep_year.exists():
        t = time.monotonic()
        shutil.copyfile(args.keep_year, db)
        print(f"copied the year kept at {args.keep_year} in {time.monotonic() - t:.0f} s", flush=True)
    if not db.exists():
        cmd = [str(YEAR), "--db", str(db), "--days", str(args.days), "--per-day", str(args.per_day)]
        if args.texts.exists():
            cmd += ["--texts", str(args.texts)]
        else:
            print(f"{args.texts} absent: synthetic article texts", flush=True)
        t = time.monotonic()
        subprocess.run(cmd, check=True)
        print(f"generated in {time.monotonic() - t:.0f} s", flush=True)
        if args.keep_year:
            size(db)  # checkpointed: the file alone is the database
            shutil.copyfile(db, args.keep_year)
            print(f"kept a copy of the year at {args.keep_year}", flush=True)
    items = sqlite3.connect(db).execute("SELECT COUNT(*) FROM items").fetchone()[0]
    before = size(db)
    print(f"without retention: {items} items, {before / 1e6:.0f} MB ({before / items:.0f} bytes per item)", flush=True)

    port = free_port()
    config = root / "veille.toml"
    lines = ["[storage]", 'database = "veille.db"', 'keep_items = "180d"', "[fetch]",
             "concurrency = 4", "per_host = 4", 'per_host_delay = "0s"', "[mail]",
             'transport = "outbox"', 'outbox = "outbox"', ""]
    for i in range(args.poll_feeds):
        lines += ["[[feeds]]", f'name = "bench-{i:05}"', f'url = "http://127.0.0.1:{port}/feeds/bench-{i:05}.xml"',
                  'fetch_article = "never"', ""]
    config.write_text("\n".join(lines))

    baseline = []
    seed = 1000
    for _ in range(3):
        seed += 1
        baseline += poll_round(veille, config, port, args.poll_feeds, seed)
    # The prune's log goes to a file as it is written (a long prune can be followed with
    # `tail -f`), and a progress line every minute says how far the polls beside it have got.
    prune_log = root / "prune.log"
    with prune_log.open("w") as log:
        prune = subprocess.Popen([str(veille), "--config", str(config), "--log-format", "json", "-v", "prune"],
                                 stdout=log, stderr=subprocess.STDOUT, text=True)
        t = time.monotonic()
        during = []
        rounds = 0
        shown = t
        stopped = False
        while prune.poll() is None:
            if args.prune_minutes and not stopped and time.monotonic() - t >= args.prune_minutes * 60:
                prune.terminate()
                stopped = True
                print(f"prune stopped after {args.prune_minutes} min (--prune-minutes)", flush=True)
            seed += 1
            during += poll_round(veille, config, port, args.poll_feeds, seed)
            rounds += 1
            if time.monotonic() - shown >= 60:
                shown = time.monotonic()
                waits = [w for _, w in during if w is not None]
                print(f"prune running for {shown - t:.0f} s: {rounds} poll rounds beside it, longest refresh "
                      f"{max(r for r, _ in during):.0f} ms, longest lock wait "
                      f"{max(waits, default=0):.0f} ms", flush=True)
        prune_s = time.monotonic() - t
    out = prune_log.read_text()
    print(out, flush=True)
    if prune.returncode != 0 and not (stopped and prune.returncode == 130):
        sys.exit(f"prune failed (exit {prune.returncode})")
    after_items = sqlite3.connect(db).execute("SELECT COUNT(*) FROM items").fetchone()[0]
    after = size(db)

    def stats(xs):
        if not xs:
            return "none logged"
        xs = sorted(xs)
        q = lambda f: xs[min(len(xs) - 1, int(f * len(xs)))]
        over = sum(1 for x in xs if x > 1000)
        return (f"median {q(0.5):.0f} ms, p99 {q(0.99):.0f} ms, max {xs[-1]:.0f} ms over {len(xs)} feed "
                f"refreshes ({over} over 1 s)")

    (root / "refresh-times.json").write_text(json.dumps({"before": baseline, "during": during}))
    total = lambda rs: [t for t, _ in rs]
    waited = lambda rs: [w for _, w in rs if w is not None]

    print()
    print(f"{args.per_day} items a day for {args.days} days; keep_items = 180d")
    print(f"| | items | database MB | bytes per item |")
    print(f"| --- | ---: | ---: | ---: |")
    print(f"| without retention | {items} | {before / 1e6:.0f} | {before / items:.0f} |")
    print(f"| after `veille prune` | {after_items} | {after / 1e6:.0f} | {after / max(after_items, 1):.0f} |")
    print(f"prune{' (stopped before its end)' if stopped else ''}: {prune_s:.0f} s ({rounds} poll rounds of {args.poll_feeds} feeds ran meanwhile)")
    print(f"feed refresh before the prune: {stats(total(baseline))}")
    print(f"feed refresh during the prune: {stats(total(during))}")
    print(f"write lock wait of a refresh before the prune: {stats(waited(baseline))}")
    print(f"write lock wait of a refresh during the prune: {stats(waited(during))}")
    if during and baseline:
        longest = max(total(during))
        print(f"longest refresh during the prune / longest before: {longest / max(total(baseline)):.2f}")
        if waited(during):
            blocked = max(waited(during))
            verdict = "met" if blocked <= 1000 else "MISSED"
            print(f"target: no refresh blocked (waiting for the write lock) over 1 s during the prune: "
                  f"{verdict} (longest wait {blocked:.0f} ms)")
        else:
            print("this binary logs no lock_wait_ms: the wait for the write lock is not measured")
        verdict = "met" if longest <= 1000 else "MISSED"
        print(f"no refresh during the prune over 1 s in all (fetch, parse, store): {verdict} "
              f"(longest {longest:.0f} ms)")
    else:
        print("the prune ended before a poll round could run beside it: nothing measured during it")


if __name__ == "__main__":
    main()
