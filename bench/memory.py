#!/usr/bin/env python3
"""Memory check: the resident set of an idle `veille run` watching 100 loopback feeds.

Serves --feeds synthetic feeds from the loopback server of bench/server.rs, starts `veille run`
on a fresh database with every feed polled each minute (the first poll stores everything, the
later ones are all 304), samples VmRSS from /proc/PID/status every --every seconds for --minutes,
and prints the samples once a minute, the peak (VmHWM) and the last value against the 20 MiB target.

    cargo build --release --bin veille --example bench-server
    python3 bench/memory.py                 # 10 minutes
    python3 bench/memory.py --minutes 2
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from common import DATA, VEILLE, FeedServer, machine, need_binaries

TARGET_MIB = 20.0


def status(pid: int) -> dict[str, float]:
    """VmRSS, VmHWM (peak) and Threads of a process, in MiB (threads as a count)."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            out[key] = int(value.split()[0]) / 1024
        elif key == "Threads":
            out[key] = int(value)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--feeds", type=int, default=100)
    p.add_argument("--items", type=int, default=20)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--every", type=float, default=2.0, help="seconds between samples")
    args = p.parse_args()
    need_binaries()
    dir = DATA / "memory"
    shutil.rmtree(dir, ignore_errors=True)
    dir.mkdir(parents=True)

    print(f"machine: {machine()}")
    with FeedServer(args.feeds, args.items, args.seed) as server:
        # One loopback host stands in for 100 sites: no politeness delay between its requests.
        lines = ["[storage]", 'database = "veille.db"', "[fetch]", 'per_host_delay = "0s"',
                 "[mail]", 'transport = "outbox"', 'outbox = "outbox"', ""]
        for name, language, url in server.feeds():
            lines += ["[[feeds]]", f'name = "{name}"', f'url = "{url}"', 'every = "1m"',
                      f'language = "{language}"', 'fetch_article = "never"', ""]
        config = dir / "veille.toml"
        config.write_text("\n".join(lines))
        env = {**os.environ, "RUST_LOG": "veille=warn"}
        env.pop("VEILLE_CONFIG", None)
        log = open(dir / "veille.log", "w")
        veille = subprocess.Popen([str(VEILLE), "--config", str(config), "run"],
                                  stdout=log, stderr=subprocess.STDOUT, env=env)
        print(f"veille run (pid {veille.pid}) on {args.feeds} feeds polled every minute; "
              f"sampling VmRSS every {args.every:g} s for {args.minutes:g} min", flush=True)
        start = time.monotonic()
        next_report = 60.0  # a line per minute; the samples in between feed the peak
        last = {}
        try:
            while (elapsed := time.monotonic() - start) < args.minutes * 60:
                if veille.poll() is not None:
                    sys.exit(f"veille run exited with {veille.returncode}; see {dir / 'veille.log'}")
                last = status(veille.pid)
                if elapsed >= next_report:
                    print(f"  {elapsed / 60:5.1f} min  VmRSS {last['VmRSS']:6.1f} MiB  "
                          f"(anon {last['RssAnon']:.1f}, file {last['RssFile']:.1f})  "
                          f"peak {last['VmHWM']:6.1f} MiB  threads {last['Threads']:.0f}", flush=True)
                    next_report += 60
                time.sleep(args.every)
            last = status(veille.pid)
        finally:
            veille.send_signal(signal.SIGTERM)
            veille.wait(timeout=30)
        stats = server.stats()

    items = __import__("sqlite3").connect(dir / "veille.db").execute("SELECT COUNT(*) FROM items").fetchone()[0]
    print(f"server: {stats['requests']} requests, {stats['not_modified']} answered 304; "
          f"{items} items stored")
    verdict = "meets" if last["VmRSS"] < TARGET_MIB else "MISSES"
    print(f"after {args.minutes:g} min: VmRSS {last['VmRSS']:.1f} MiB, peak {last['VmHWM']:.1f} MiB "
          f"({verdict} the {TARGET_MIB:g} MiB target)")


if __name__ == "__main__":
    main()
