#!/usr/bin/env python3
"""Farm benchmark: one full poll cycle of 10,000 feeds spread over 200 loopback "sites", each
response delayed 150 ms, with veille's default politeness settings.

Serves --feeds synthetic feeds (bench/server.rs, --items items each) on 0.0.0.0, listed in
contiguous blocks under the loopback addresses 127.0.0.2 … 127.0.0.(1 + --hosts) (Linux routes all
of 127/8 to this machine, so each address is one host for the per-host limits), every feed
response held back --delay-ms. Writes a veille configuration with no [fetch] settings (the
defaults: per-host delay, per_host, concurrency), then times `veille poll --all` on fresh state
(first cycle: every feed new) and again (second cycle: every feed 304), for the release build and
every `--veille NAME=PATH` given (a baseline), interleaved. Prints wall, CPU, peak RSS and the
lower bound politeness sets: the per-host delay times the feeds of the busiest host (its requests
cannot start closer together), plus one response.

rss2email (`run --no-send`, one feed after the other as it works) is timed on an evenly spread
subset (--rss2email-feeds, default 1,000: the whole farm would take over half an hour) and its
time per feed scaled to the whole farm (marked as an extrapolation).

    cargo build --release --bin veille --example bench-server
    python3 bench/farm.py                                  # 10,000 feeds, 200 hosts
    python3 bench/farm.py --veille base=/tmp/veille-main   # a baseline binary beside it
    python3 bench/farm.py --feeds 2000 --rss2email-feeds 0 # quicker, no rss2email
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sqlite3
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

from common import DATA, ROOT, VEILLE, FeedServer, Measure, machine, measured, need_binaries, venv

RSS2EMAIL = "rss2email==3.14"
# veille's default `[fetch] per_host_delay` (src/config.rs, DEFAULT_PER_HOST_DELAY).
DEFAULT_PER_HOST_DELAY_S = 1.0


def check(ok: bool, what: str) -> None:
    print(f"  {'ok  ' if ok else 'FAIL'} {what}", flush=True)
    if not ok:
        check.failed = True


check.failed = False


def veille_config(dir: Path, feeds, fetch: list[str]) -> Path:
    dir.mkdir(parents=True)
    lines = ["# Written by bench/farm.py: default politeness settings.", "[storage]",
             'database = "veille.db"', *(["[fetch]", *fetch] if fetch else []),
             "[mail]", 'transport = "outbox"', 'outbox = "outbox"', ""]
    for name, language, url in feeds:
        lines += ["[[feeds]]", f'name = "{name}"', f'url = "{url}"', 'every = "1h"',
                  f'language = "{language}"', 'fetch_article = "never"', ""]
    path = dir / "veille.toml"
    path.write_text("\n".join(lines))
    return path


def run_veille(server: FeedServer, feeds, args, name: str, binary: Path, run: str) -> Measure:
    dir = DATA / f"farm-veille-{name}"
    fetch = [f"concurrency = {args.concurrency}"] if args.concurrency else []
    fetch += [f"per_host = {args.per_host}"] if args.per_host else []
    config = veille_config(dir, feeds, fetch) if run == "first" else dir / "veille.toml"
    env = {**os.environ, "RUST_LOG": "error"}
    env.pop("VEILLE_CONFIG", None)
    before = server.stats()
    m = measured([str(binary), "--config", str(config), "poll", "--all"], env=env)
    after = server.stats()
    print(f"veille {name} {run} cycle: {m.wall:.1f} s wall, {m.cpu:.1f} s CPU, {m.rss_mib:.1f} MiB; "
          f"{m.stdout.strip().splitlines()[0] if m.stdout else m.stderr.strip()[-300:]}", flush=True)
    check(m.code == 0, f"exit status {m.code}")
    check(re.search(rf"\b{len(feeds)} ok\b", m.stdout) is not None, "every feed ok")
    if run == "first":
        items = sqlite3.connect(dir / "veille.db").execute("SELECT COUNT(*) FROM items").fetchone()[0]
        check(items == len(feeds) * args.items, f"{items} items stored (expected {len(feeds) * args.items})")
    else:
        nm = after["not_modified"] - before["not_modified"]
        check(nm == len(feeds), f"{nm} feeds answered 304 (expected {len(feeds)})")
    return m


def run_rss2email(server: FeedServer, subset, args) -> Measure:
    bin = venv(RSS2EMAIL)
    dir = DATA / "farm-rss2email"
    dir.mkdir(parents=True)
    lines = ["[DEFAULT]", "from = bench@localhost", "to = reader@localhost", "verbose = warning", ""]
    for name, _, url in subset:
        lines += [f"[feed.{name}]", f"url = {url}", ""]
    config = dir / "rss2email.cfg"
    config.write_text("\n".join(lines))
    m = measured([str(bin / "r2e"), "-c", str(config), "-d", str(dir / "rss2email.json"), "run", "--no-send"])
    print(f"rss2email --no-send, {len(subset)} feeds: {m.wall:.1f} s wall, {m.cpu:.1f} s CPU, "
          f"{m.rss_mib:.1f} MiB", flush=True)
    check(m.code == 0, f"exit status {m.code}" + (f": {m.stderr.strip()[-300:]}" if m.code else ""))
    return m


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--feeds", type=int, default=10_000)
    p.add_argument("--hosts", type=int, default=200)
    p.add_argument("--items", type=int, default=5)
    p.add_argument("--delay-ms", type=int, default=150)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--concurrency", type=int, default=0, help="override [fetch] concurrency (0: default)")
    p.add_argument("--per-host", type=int, default=0, help="override [fetch] per_host (0: default)")
    p.add_argument("--veille", action="append", default=[], metavar="NAME=PATH",
                   help="another veille binary to measure beside the release build (a baseline)")
    p.add_argument("--rss2email-feeds", type=int, default=1000,
                   help="rss2email on this many evenly spread feeds (0: skip)")
    p.add_argument("--server-threads", type=int, default=2)
    args = p.parse_args()
    need_binaries()
    binaries = [("release", VEILLE)]
    for spec in args.veille:
        name, sep, path = spec.partition("=")
        if not sep or not Path(path).exists():
            sys.exit(f"--veille {spec!r}: expected NAME=PATH of a veille binary")
        binaries.append((name, Path(path)))
    for sub in DATA.glob("farm-*"):
        shutil.rmtree(sub, ignore_errors=True)
    DATA.mkdir(exist_ok=True)

    print(f"machine: {machine()}")
    server = FeedServer(args.feeds, args.items, args.seed, args.server_threads)
    server.args += ["--bind", "0.0.0.0", "--hosts", str(args.hosts), "--delay-ms", str(args.delay_ms)]
    results: dict[str, dict[str, Measure]] = {}
    with server:
        feeds = server.feeds()
        per_host = Counter(urlsplit(url).hostname for _, _, url in feeds)
        busiest = max(per_host.values())
        bound = (busiest - 1) * DEFAULT_PER_HOST_DELAY_S + args.delay_ms / 1000
        print(f"serving {len(feeds)} feeds x {args.items} items on {len(per_host)} hosts "
              f"(busiest: {busiest} feeds), {args.delay_ms} ms per response", flush=True)
        for run in ("first", "second"):
            for name, binary in binaries:
                results.setdefault(f"veille {name}", {})[run] = run_veille(server, feeds, args, name, binary, run)
        r2e = None
        if args.rss2email_feeds:
            step = max(1, len(feeds) // args.rss2email_feeds)
            r2e = run_rss2email(server, feeds[::step][: args.rss2email_feeds], args)
        print(f"  server CPU in all: {server.cpu_seconds():.1f} s", flush=True)

    print()
    print(f"{len(feeds)} feeds x {args.items} items, {len(per_host)} hosts, {args.delay_ms} ms per response; "
          f"politeness bound {bound:.1f} s = ({busiest} feeds on the busiest host - 1) x "
          f"{DEFAULT_PER_HOST_DELAY_S:.0f} s per-host delay + one response")
    rows = ["| tool | cycle | wall s | wall / bound | CPU s | peak RSS MiB |",
            "| --- | --- | ---: | ---: | ---: | ---: |"]
    for run in ("first", "second"):
        for tool, runs in results.items():
            m = runs[run]
            rows.append(f"| {tool} | {run} | {m.wall:.1f} | {m.wall / bound:.2f}× | {m.cpu:.1f} | {m.rss_mib:.1f} |")
    if r2e:
        n = min(args.rss2email_feeds, len(feeds))
        scaled = r2e.wall / n * len(feeds)
        rows.append(f"| rss2email --no-send, {n} feeds | first | {r2e.wall:.1f} | | {r2e.cpu:.1f} | {r2e.rss_mib:.1f} |")
        rows.append(f"| rss2email --no-send, scaled to {len(feeds)} (extrapolated) | first | {scaled:.0f} | "
                    f"{scaled / bound:.1f}× | | |")
    md = "\n".join(rows)
    print(md)
    (DATA / "farm-results.md").write_text(md + "\n")
    if check.failed:
        sys.exit("some checks failed: the figures above are not a fair comparison")


if __name__ == "__main__":
    main()
