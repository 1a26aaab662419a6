#!/usr/bin/env python3
"""Poll benchmark: veille vs rss2email on the same N loopback feeds, first and second poll.

Serves N synthetic feeds (mixed RSS 2.0 / Atom, 20 multilingual items each, deterministic from
--seed) from the loopback server of bench/server.rs, then for each tool, with fresh state:
first poll (everything new) and second poll (every feed answers 304). Measures wall time, CPU
time (user + sys) and peak RSS of each run from the kernel's rusage, checks that veille stored
N x items items and that rss2email delivered N x items mails, and prints the table with the
ratios rss2email / veille.

    cargo build --release --bin veille --example bench-server
    python3 bench/poll.py                 # 1,000 feeds
    python3 bench/poll.py --feeds 100     # quicker
    python3 bench/poll.py --skip-rss2email

rss2email 3.14 is installed from the package index into bench/.venv on first use.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import sys
from pathlib import Path

from common import DATA, VEILLE, FeedServer, Measure, machine, measured, need_binaries, venv

RSS2EMAIL = "rss2email==3.14"


def veille_config(dir: Path, feeds, concurrency: int, per_host: int) -> Path:
    dir.mkdir(parents=True)
    lines = [
        "# Written by bench/poll.py: every feed on one loopback host.",
        "[storage]",
        'database = "veille.db"',
        "[fetch]",
        f"concurrency = {concurrency}",
        f"per_host = {per_host}",
        # One loopback host stands in for a thousand sites: the politeness delay between two
        # requests to one host (default 1 s) would otherwise serialise the whole poll.
        'per_host_delay = "0s"',
        "[mail]",
        'transport = "outbox"',
        'outbox = "outbox"',
        "",
    ]
    for name, language, url in feeds:
        # Items carry their full text: no article page is fetched.
        lines += ["[[feeds]]", f'name = "{name}"', f'url = "{url}"', 'every = "1h"',
                  f'language = "{language}"', 'fetch_article = "never"', ""]
    path = dir / "veille.toml"
    path.write_text("\n".join(lines))
    return path


def rss2email_config(dir: Path, feeds, delivery: str) -> tuple[Path, Path, Path]:
    dir.mkdir(parents=True)
    maildir = dir / "Maildir"
    maildir.mkdir()  # rss2email creates the mailbox, not its parent
    counter = dir / "sendmail-count"
    sink = dir / "sendmail-sink"
    sink.write_text(f'#!/bin/sh\n# Discards one message and counts it.\ncat >/dev/null\necho >> "{counter}"\n')
    sink.chmod(0o755)
    lines = [
        "[DEFAULT]",
        "from = bench@localhost",
        "to = reader@localhost",
        f"email-protocol = {delivery}",
        f"maildir-path = {maildir}",
        "maildir-mailbox = INBOX",
        f"sendmail = {sink}",
        "verbose = warning",
        "",
    ]
    for name, _, url in feeds:
        lines += [f"[feed.{name}]", f"url = {url}", ""]
    config = dir / "rss2email.cfg"
    config.write_text("\n".join(lines))
    return config, dir / "rss2email.json", (maildir / "INBOX" if delivery == "maildir" else counter)


def delivered(sink: Path) -> int:
    """Mails rss2email delivered: maildir files, or lines of the sendmail sink's counter."""
    if sink.is_dir():
        return sum(1 for sub in ("new", "cur") if (sink / sub).is_dir() for _ in (sink / sub).iterdir())
    return len(sink.read_text().splitlines()) if sink.exists() else 0


def check(ok: bool, what: str) -> None:
    print(f"  {'ok  ' if ok else 'FAIL'} {what}", flush=True)
    if not ok:
        check.failed = True


check.failed = False


def run_veille(server: FeedServer, feeds, args) -> list[tuple[str, Measure]]:
    dir = DATA / "veille"
    config = veille_config(dir, feeds, args.concurrency, args.per_host)
    env = {**os.environ, "RUST_LOG": "error"}
    env.pop("VEILLE_CONFIG", None)
    runs = []
    for run in ("first", "second"):
        before = server.stats()
        m = measured([str(VEILLE), "--config", str(config), "poll", "--all"], env=env)
        after = server.stats()
        print(f"veille {run} poll: {m.stdout.strip().splitlines()[0] if m.stdout else m.stderr.strip()}", flush=True)
        check(m.code == 0, f"exit status {m.code}")
        not_modified = after["not_modified"] - before["not_modified"]
        if run == "first":
            items = sqlite3.connect(dir / "veille.db").execute("SELECT COUNT(*) FROM items").fetchone()[0]
            check(items == len(feeds) * args.items, f"{items} items stored (expected {len(feeds) * args.items})")
            check(re.search(rf"\b{len(feeds)} ok\b", m.stdout) is not None, "every feed ok")
        else:
            check(not_modified == len(feeds), f"{not_modified} feeds answered 304 (expected {len(feeds)})")
        runs.append((run, m))
    return runs


def run_rss2email(server: FeedServer, feeds, args) -> list[tuple[str, Measure]]:
    bin = venv(RSS2EMAIL)
    dir = DATA / "rss2email"
    config, data, sink = rss2email_config(dir, feeds, args.delivery)
    runs = []
    for run in ("first", "second"):
        before = server.stats()
        sent_before = delivered(sink)
        m = measured([str(bin / "r2e"), "-c", str(config), "-d", str(data), "run"])
        after = server.stats()
        sent = delivered(sink) - sent_before
        not_modified = after["not_modified"] - before["not_modified"]
        print(f"rss2email {run} poll: {sent} mails delivered, {after['requests'] - before['requests']} requests, "
              f"{not_modified} answered 304", flush=True)
        check(m.code == 0, f"exit status {m.code}" + (f": {m.stderr.strip()[-300:]}" if m.code else ""))
        if run == "first":
            check(sent == len(feeds) * args.items, f"{sent} mails delivered (expected {len(feeds) * args.items})")
        else:
            check(sent == 0, f"{sent} mails on the second poll (expected 0)")
            check(not_modified == len(feeds), f"{not_modified} feeds answered 304 (expected {len(feeds)})")
        runs.append((run, m))
    return runs


def table(results: dict, feeds: int, items: int) -> str:
    rows = ["| tool | poll | wall s | CPU s | peak RSS MiB |", "| --- | --- | ---: | ---: | ---: |"]
    for run in ("first", "second"):
        for tool in ("veille", "rss2email"):
            if tool in results:
                m = results[tool][run]
                rows.append(f"| {tool} | {run} | {m.wall:.3f} | {m.cpu:.3f} | {m.rss_mib:.1f} |")
        if "rss2email" in results:
            v, r = results["veille"][run], results["rss2email"][run]
            rows.append(f"| **rss2email / veille** | {run} | **{r.wall / v.wall:.0f}×** | "
                        f"**{r.cpu / v.cpu:.0f}×** | **{r.rss_mib / v.rss_mib:.1f}×** |")
    return "\n".join(rows)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--feeds", type=int, default=1000)
    p.add_argument("--items", type=int, default=20)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--concurrency", type=int, default=16, help="veille [fetch] concurrency")
    p.add_argument("--per-host", type=int, default=16,
                   help="veille [fetch] per_host (all feeds share one loopback host)")
    p.add_argument("--delivery", choices=("sendmail", "maildir"), default="sendmail",
                   help="rss2email delivery: a sendmail sink script that counts and discards, or a local Maildir")
    p.add_argument("--skip-rss2email", action="store_true")
    p.add_argument("--server-threads", type=int, default=1)
    args = p.parse_args()
    need_binaries()
    if DATA.exists():
        for sub in ("veille", "rss2email"):
            shutil.rmtree(DATA / sub, ignore_errors=True)
    DATA.mkdir(exist_ok=True)

    print(f"machine: {machine()}")
    with FeedServer(args.feeds, args.items, args.seed, args.server_threads) as server:
        feeds = server.feeds()
        print(f"serving {len(feeds)} feeds x {args.items} items at {server.base}", flush=True)
        results = {"veille": dict(run_veille(server, feeds, args))}
        print(f"  server CPU so far: {server.cpu_seconds():.2f} s", flush=True)
        if not args.skip_rss2email:
            results["rss2email"] = dict(run_rss2email(server, feeds, args))
        print(f"  server CPU in all: {server.cpu_seconds():.2f} s", flush=True)

    print()
    print(f"{len(feeds)} feeds x {args.items} items, veille concurrency {args.concurrency}, "
          f"per_host {args.per_host}, rss2email delivery {args.delivery}")
    md = table(results, len(feeds), args.items)
    print(md)
    (DATA / "poll-results.md").write_text(md + "\n")
    (DATA / "poll-results.json").write_text(json.dumps(
        {tool: {run: vars(m) | {"stdout": None, "stderr": None} for run, m in runs.items()}
         for tool, runs in results.items()}, indent=2))
    if check.failed:
        sys.exit("some checks failed: the figures above are not a fair comparison")


if __name__ == "__main__":
    main()
