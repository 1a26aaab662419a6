#!/usr/bin/env python3
"""Poll benchmark: veille vs rss2email on the same N loopback feeds, first and second poll.

Serves N synthetic feeds (mixed RSS 2.0 / Atom, 20 multilingual items each, deterministic from
--seed) from the loopback server of bench/server.rs, then runs, each on fresh state, first poll
(everything new) and second poll (every feed answers 304):

- veille (`veille poll --all`): the `release` build, plus every `--veille NAME=PATH` given (a
  baseline binary built from another commit, the `dist` build with `--dist`);
- rss2email 3.14 `run --no-send` (fetch, parse and state only, its cheapest mode: the headline
  comparison), and `run` delivering every mail to a sendmail sink (`--delivery maildir`: a
  local Maildir), a far heavier mode (one process per mail).

All first polls run one after the other, then all second polls, so that every binary meets the
same machine load (timings on a shared machine are noisy: compare ratios from one run). Measures
wall time, CPU time (user + sys) and peak RSS of each run, checks that every veille stored
N x items items and that rss2email saw (or delivered) N x items entries, and prints the table with
the ratios rss2email / veille and baseline / veille.

    cargo build --release --bin veille --example bench-server
    python3 bench/poll.py                                  # 1,000 feeds, both rss2email modes
    python3 bench/poll.py --feeds 100 --rss2email no-send  # quicker
    python3 bench/poll.py --veille base=/tmp/veille-main   # a baseline binary beside it
    python3 bench/poll.py --dist                           # + target/dist/veille
    python3 bench/poll.py --rss2email none

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

from common import DATA, ROOT, VEILLE, FeedServer, Measure, machine, measured, need_binaries, venv

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


def seen_entries(data: Path) -> int:
    """Entries rss2email has recorded as seen, over all feeds of its state file."""
    if not data.exists():
        return 0
    return sum(len(f.get("seen", {})) for f in json.loads(data.read_text()).get("feeds", []))


def check(ok: bool, what: str) -> None:
    print(f"  {'ok  ' if ok else 'FAIL'} {what}", flush=True)
    if not ok:
        check.failed = True


check.failed = False


def run_veille(server: FeedServer, feeds, args, name: str, binary: Path, run: str) -> Measure:
    """One poll (`first` on fresh state, then `second`) of one veille binary."""
    dir = DATA / f"veille-{name}"
    if run == "first":
        config = veille_config(dir, feeds, args.concurrency, args.per_host)
    else:
        config = dir / "veille.toml"
    env = {**os.environ, "RUST_LOG": "error"}
    env.pop("VEILLE_CONFIG", None)
    before = server.stats()
    m = measured([str(binary), "--config", str(config), "poll", "--all"], env=env)
    after = server.stats()
    print(f"veille {name} {run} poll: {m.stdout.strip().splitlines()[0] if m.stdout else m.stderr.strip()}", flush=True)
    check(m.code == 0, f"exit status {m.code}")
    not_modified = after["not_modified"] - before["not_modified"]
    if run == "first":
        items = sqlite3.connect(dir / "veille.db").execute("SELECT COUNT(*) FROM items").fetchone()[0]
        check(items == len(feeds) * args.items, f"{items} items stored (expected {len(feeds) * args.items})")
        check(re.search(rf"\b{len(feeds)} ok\b", m.stdout) is not None, "every feed ok")
    else:
        check(not_modified == len(feeds), f"{not_modified} feeds answered 304 (expected {len(feeds)})")
    return m


def run_rss2email(server: FeedServer, feeds, args, mode: str, run: str) -> Measure:
    """One poll of rss2email in `mode`: `no-send` (`run --no-send`) or the delivery of --delivery."""
    bin = venv(RSS2EMAIL)
    dir = DATA / f"rss2email-{mode}"
    if run == "first":
        config, data, sink = rss2email_config(dir, feeds, args.delivery)
    else:
        config, data = dir / "rss2email.cfg", dir / "rss2email.json"
        sink = dir / "Maildir" / "INBOX" if args.delivery == "maildir" else dir / "sendmail-count"
    before = server.stats()
    sent_before, seen_before = delivered(sink), seen_entries(data)
    cmd = [str(bin / "r2e"), "-c", str(config), "-d", str(data), "run"]
    m = measured(cmd + (["--no-send"] if mode == "no-send" else []))
    after = server.stats()
    sent, seen = delivered(sink) - sent_before, seen_entries(data) - seen_before
    not_modified = after["not_modified"] - before["not_modified"]
    print(f"rss2email {mode} {run} poll: {seen} entries recorded, {sent} mails delivered, "
          f"{after['requests'] - before['requests']} requests, {not_modified} answered 304", flush=True)
    check(m.code == 0, f"exit status {m.code}" + (f": {m.stderr.strip()[-300:]}" if m.code else ""))
    expected = len(feeds) * args.items
    if run == "first":
        check(seen == expected, f"{seen} entries recorded as seen (expected {expected})")
        if mode != "no-send":
            check(sent == expected, f"{sent} mails delivered (expected {expected})")
        else:
            check(sent == 0, f"{sent} mails delivered with --no-send (expected 0)")
    else:
        check(sent == 0, f"{sent} mails on the second poll (expected 0)")
        check(not_modified == len(feeds), f"{not_modified} feeds answered 304 (expected {len(feeds)})")
    return m


def ratio(a: float, b: float) -> str:
    if b <= 0:
        return "n/a"
    r = a / b
    return f"{r:.1f}×" if r < 10 else f"{r:.0f}×"


def table(results: dict[str, dict[str, Measure]], headline: str) -> str:
    """Rows per tool and poll, then the ratios of every other tool over the `headline` veille."""
    rows = ["| tool | poll | wall s | CPU s | peak RSS MiB |", "| --- | --- | ---: | ---: | ---: |"]
    for run in ("first", "second"):
        for tool, runs in results.items():
            m = runs[run]
            rows.append(f"| {tool} | {run} | {m.wall:.3f} | {m.cpu:.3f} | {m.rss_mib:.1f} |")
        v = results[headline][run]
        for tool, runs in results.items():
            if tool == headline:
                continue
            r = runs[run]
            rows.append(f"| **{tool} / {headline}** | {run} | **{ratio(r.wall, v.wall)}** | "
                        f"**{ratio(r.cpu, v.cpu)}** | **{ratio(r.rss_mib, v.rss_mib)}** |")
    return "\n".join(rows)


def veille_binaries(args) -> list[tuple[str, Path]]:
    """(name, binary) of every veille measured: the headline build first."""
    out = [(os.environ.get("VEILLE_PROFILE", "release"), VEILLE)]
    if args.dist:
        dist = ROOT / "target" / "dist" / "veille"
        if not dist.exists():
            sys.exit(f"missing {dist}\nbuild it first: cargo build --profile dist --bin veille")
        out.append(("dist", dist))
    for spec in args.veille:
        name, sep, path = spec.partition("=")
        if not sep or not Path(path).exists():
            sys.exit(f"--veille {spec!r}: expected NAME=PATH of a veille binary")
        out.append((name, Path(path)))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--feeds", type=int, default=1000)
    p.add_argument("--items", type=int, default=20)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--concurrency", type=int, default=16, help="veille [fetch] concurrency")
    p.add_argument("--per-host", type=int, default=16,
                   help="veille [fetch] per_host (all feeds share one loopback host)")
    p.add_argument("--veille", action="append", default=[], metavar="NAME=PATH",
                   help="another veille binary to measure beside the release build (a baseline)")
    p.add_argument("--dist", action="store_true", help="also measure target/dist/veille")
    p.add_argument("--rss2email", default="no-send,deliver",
                   help="rss2email modes, comma-separated: no-send, deliver; or none")
    p.add_argument("--delivery", choices=("sendmail", "maildir"), default="sendmail",
                   help="rss2email delivery: a sendmail sink script that counts and discards, or a local Maildir")
    p.add_argument("--skip-rss2email", action="store_true", help="same as --rss2email none")
    p.add_argument("--server-threads", type=int, default=1)
    args = p.parse_args()
    need_binaries()
    binaries = veille_binaries(args)
    modes = [] if args.skip_rss2email or args.rss2email == "none" else args.rss2email.split(",")
    if any(m not in ("no-send", "deliver") for m in modes):
        sys.exit(f"--rss2email {args.rss2email!r}: expected no-send, deliver or none")
    if DATA.exists():
        for sub in DATA.iterdir():
            if sub.is_dir() and sub.name.startswith(("veille", "rss2email")):
                shutil.rmtree(sub, ignore_errors=True)
    DATA.mkdir(exist_ok=True)

    print(f"machine: {machine()}")
    labels = {"no-send": "rss2email --no-send", "deliver": f"rss2email {args.delivery}"}
    results: dict[str, dict[str, Measure]] = {}
    with FeedServer(args.feeds, args.items, args.seed, args.server_threads) as server:
        feeds = server.feeds()
        print(f"serving {len(feeds)} feeds x {args.items} items at {server.base}", flush=True)
        for run in ("first", "second"):
            for name, binary in binaries:
                results.setdefault(f"veille {name}", {})[run] = run_veille(server, feeds, args, name, binary, run)
            for mode in modes:
                results.setdefault(labels[mode], {})[run] = run_rss2email(server, feeds, args, mode, run)
            print(f"  server CPU so far: {server.cpu_seconds():.2f} s", flush=True)

    print()
    print(f"{len(feeds)} feeds x {args.items} items, veille concurrency {args.concurrency}, "
          f"per_host {args.per_host}; ratios are other / veille {binaries[0][0]} (higher: veille better)")
    md = table(results, f"veille {binaries[0][0]}")
    print(md)
    (DATA / "poll-results.md").write_text(md + "\n")
    (DATA / "poll-results.json").write_text(json.dumps(
        {tool: {run: vars(m) | {"stdout": None, "stderr": None} for run, m in runs.items()}
         for tool, runs in results.items()}, indent=2))
    if check.failed:
        sys.exit("some checks failed: the figures above are not a fair comparison")


if __name__ == "__main__":
    main()
