#!/usr/bin/env python3
"""Web view latency with a large database: `veille serve` under load from wrk (Debian's `wrk`).

Generates (once) a database of --items items with `bench-webdb` (bench/webdb.rs: synthetic
multilingual items through veille's own store, topics from the real classifier), serves it with
`veille serve` on loopback, and loads each page class with wrk for --duration seconds over
--connections connections, cycling through many different URLs of the class:

  matches  the matches page with no filter, each filter (watch list, topic, language, feed, date
           range, minimum score), combinations, and deep pages (?before=…)
  item     item pages of random items, matched or not (with live classification and highlights)
  search   full-text searches: common and rare words, accents, phrases, prefixes, exclusions
  baseline the stylesheet: a handler that does no work, measured in the same run

It prints p50/p95/p99 per class, p95 against the issue's targets (matches and item 50 ms, search
150 ms), p95 as a multiple of the baseline's, and the database size per item.

  cargo build --release --bin veille --example bench-webdb
  python3 bench/web.py                      # 1,000,000 items (the generator runs ~10 min once)
  python3 bench/web.py --items 100000       # a quicker run
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DATA, PROFILE, ROOT, VEILLE  # noqa: E402

GENERATOR = ROOT / "target" / PROFILE / "examples" / "bench-webdb"
TARGETS_MS = {"matches": 50.0, "item": 50.0, "search": 150.0}

LUA = r"""
local urls = {%s}
local i = %d
request = function()
  i = i + 1
  return wrk.format("GET", urls[(i %% #urls) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%d %%d %%.1f %%.1f %%.1f %%.1f\n",
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout,
    summary.duration, latency.mean, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max))
end
"""


def database(items: int) -> Path:
    db = DATA / "web" / f"veille-{items}.db"
    if not db.exists():
        db.parent.mkdir(parents=True, exist_ok=True)
        print(f"generating {db} ({items} items) …", flush=True)
        subprocess.run([str(GENERATOR), "--items", str(items), "--db", str(db)], check=True)
    return db


def urls(db: Path, rng: random.Random) -> dict[str, list[str]]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    max_id = con.execute("SELECT MAX(id) FROM items").fetchone()[0]
    matched = [r[0] for r in con.execute(
        "SELECT item_id FROM matches ORDER BY item_id LIMIT 200000")]
    feeds = [r[0] for r in con.execute("SELECT name FROM feeds")]
    lo, hi = con.execute(
        "SELECT MIN(COALESCE(published_at, fetched_at)), MAX(COALESCE(published_at, fetched_at)) FROM items"
    ).fetchone()
    con.close()
    months = sorted({m for m in (lo[:7], hi[:7])})
    deep = [rng.choice(matched) for _ in range(20)]
    matches = ["/", "/?topic=eu-nato-cyber", "/?topic=eu-us-cyber", "/?watchlist=cyber",
               "/?min_score=0.9", "/?language=fr", "/?language=de&topic=eu-us-cyber",
               "/?language=pl&min_score=0.8", f"/?from={hi[:8]}01", f"/?to={lo[:10]}"]
    matches += [f"/?feed={rng.choice(feeds)}" for _ in range(10)]
    matches += [f"/?before={i}" for i in deep]
    matches += [f"/?topic=eu-nato-cyber&before={i}" for i in deep[:5]]
    matches += [f"/?from={months[0]}-01&to={months[-1]}-28&language=it"]
    items = [f"/items/{rng.randint(1, max_id)}" for _ in range(150)]
    items += [f"/items/{rng.choice(matched)}" for _ in range(150)]
    searches = ["commission", "cooperation", "cyberdefense", "OTAN", "\"european union\"",
                "cyber*", "ransomware -nato", "Zusammenarbeit", "współpraca", "cibersegurança",
                "sous-marins", "défense européenne", "strategy energy", "\"joint exercise\"",
                "agriculture", "regulation*", "consultation -public", "Verenigde Staten",
                "unmatchedwordxyz", "budget"]
    search = ["/search?" + urllib.parse.urlencode({"q": s}) for s in searches]
    return {"matches": matches, "item": items, "search": search,
            "baseline": ["/static/veille.css"]}


def load(base: str, paths: list[str], duration: int, connections: int, seed: int) -> dict:
    lua = LUA % (", ".join(json.dumps(p) for p in paths), seed)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(lua)
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s", f.name, base],
        capture_output=True, text=True, check=True).stdout
    Path(f.name).unlink()
    m = re.search(r"RESULT (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)", out)
    if not m:
        sys.exit(f"wrk gave no result:\n{out}")
    n, errors, dur_us, mean, p50, p95, p99, mx = m.groups()
    return {"requests": int(n), "errors": int(errors), "rps": int(n) / (int(dur_us) / 1e6),
            "mean": float(mean) / 1000, "p50": float(p50) / 1000, "p95": float(p95) / 1000,
            "p99": float(p99) / 1000, "max": float(mx) / 1000}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--duration", type=int, default=20, help="seconds of load per page class")
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    for binary in (VEILLE, GENERATOR):
        if not binary.exists():
            sys.exit(f"missing {binary}; build: cargo build --profile {PROFILE} --bin veille --example bench-webdb")
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install wrk")
    db = database(args.items)
    size = db.stat().st_size
    rng = random.Random(args.seed)
    classes = urls(db, rng)
    config = db.with_suffix(".toml")
    config.write_text(
        f'[storage]\ndatabase = "{db.name}"\n'
        '[[watchlists]]\nname = "cyber"\ntopics = ["eu-nato-cyber", "eu-us-cyber"]\n'
        'min_score = 0.5\nrecipients = ["analyst@example.org"]\nschedule = "0 8 * * *"\n')
    serve = subprocess.Popen([str(VEILLE), "--config", str(config), "serve", "--listen", "127.0.0.1:0"],
                             stdout=subprocess.PIPE, text=True)
    try:
        line = serve.stdout.readline()
        m = re.match(r"veille web view at (http://\S+)/", line)
        if not m:
            sys.exit(f"veille serve did not start: {line!r}")
        base = m.group(1)
        # Every URL answers 200 before the clock starts (a 400 or 500 would flatter the figures).
        for cls, paths in classes.items():
            for p in paths:
                with urllib.request.urlopen(base + p) as r:
                    assert r.status == 200, (p, r.status)
        results = {cls: load(base, paths, args.duration, args.connections, args.seed)
                   for cls, paths in classes.items()}
    finally:
        serve.terminate()
        serve.wait()
    items = args.items
    print(f"\nveille serve ({PROFILE}), {items:,} items, database {size / 1e9:.2f} GB = "
          f"{size / items:,.0f} bytes per item; wrk {args.connections} connections, "
          f"{args.duration} s per class")
    print(f"{'class':<9} {'URLs':>5} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
          f"{'max ms':>7} {'target':>7} {'p95/target':>10} {'p95/baseline':>12} errors")
    base_p95 = results["baseline"]["p95"]
    for cls, r in results.items():
        target = TARGETS_MS.get(cls)
        ratio = f"{r['p95'] / target:.2f}" if target else "-"
        print(f"{cls:<9} {len(classes[cls]):>5} {r['rps']:>7.0f} {r['p50']:>7.2f} {r['p95']:>7.2f} "
              f"{r['p99']:>7.2f} {r['max']:>7.1f} {target or '-':>7} "
              f"{ratio:>10} {r['p95'] / base_p95:>12.1f} {r['errors']}")
    bad = [c for c, t in TARGETS_MS.items() if results[c]["p95"] > t]
    print("targets met" if not bad else f"targets missed: {', '.join(bad)}")


if __name__ == "__main__":
    main()
