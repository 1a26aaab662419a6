#!/usr/bin/env python3
"""Storage benchmark: bytes per stored item, for a baseline veille binary and this one, run beside
each other on the same loopback feeds.

Two workloads, each polled once by each binary into a fresh database:

- `plain`: the 1,000-feed benchmark of bench/poll.py (1,000 feeds x 20 items whose feed entries
  carry their whole text as HTML; no article page fetched);
- `articles`: the real-shaped mix: the same feeds as most official feeds are (a one-sentence
  summary and a link per item), each article page fetched and extracted (`fetch_article = "auto"`)
  from the same loopback server (a page with navigation, the article and a footer).

After the poll the write-ahead log is checkpointed into the file; the size of the file and of
each table and index (SQLite's dbstat) is divided by the number of items.

    cargo build --release --bin veille --example bench-server
    # a baseline binary, e.g. main's:
    git stash && git checkout main -- src migrations Cargo.toml Cargo.lock \\
      && cargo build --release --bin veille && cp target/release/veille bench/data/veille-base \\
      && git checkout HEAD -- src migrations Cargo.toml Cargo.lock && git stash pop
    python3 bench/storage.py --base bench/data/veille-base
    python3 bench/storage.py --base bench/data/veille-base --feeds 100   # quicker
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
from pathlib import Path

from common import DATA, VEILLE, FeedServer, machine, measured, need_binaries


def config(dir: Path, feeds, articles: bool) -> Path:
    dir.mkdir(parents=True)
    lines = [
        "# Written by bench/storage.py: every feed on one loopback host.",
        "[storage]",
        'database = "veille.db"',
        "[fetch]",
        "concurrency = 16",
        "per_host = 16",
        'per_host_delay = "0s"',
        # article pages are on the loopback server too
        "allow_private_networks = true",
        "[mail]",
        'transport = "outbox"',
        'outbox = "outbox"',
        "",
    ]
    fetch = "auto" if articles else "never"
    for name, language, url in feeds:
        lines += ["[[feeds]]", f'name = "{name}"', f'url = "{url}"', 'every = "1h"',
                  f'language = "{language}"', f'fetch_article = "{fetch}"', ""]
    path = dir / "veille.toml"
    path.write_text("\n".join(lines))
    return path


def measure(binary: Path, dir: Path, feeds, articles: bool) -> dict:
    cfg = config(dir, feeds, articles)
    env = {**os.environ, "RUST_LOG": "error"}
    env.pop("VEILLE_CONFIG", None)
    m = measured([str(binary), "--config", str(cfg), "poll", "--all"], env=env)
    if m.code != 0:
        sys.exit(f"{binary} poll failed: {m.stderr.strip()[-500:]}")
    db = dir / "veille.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    items = conn.execute("SELECT COUNT(*) FROM items").fetchone()[0]
    with_article = conn.execute(
        "SELECT COUNT(*) FROM items WHERE article_text IS NOT NULL").fetchone()[0]
    parts = dict(conn.execute(
        "SELECT CASE WHEN name LIKE 'items_fts%' THEN 'search index' "
        "WHEN name IN ('items') THEN 'items' "
        "WHEN name LIKE 'items%' OR name LIKE 'sqlite_autoindex_items%' THEN 'items indexes' "
        "WHEN name LIKE '%item_sources%' THEN 'item_sources' "
        "WHEN name LIKE 'matches%' OR name LIKE '%autoindex_matches%' THEN 'matches' "
        "ELSE 'other' END, SUM(pgsize) FROM dbstat GROUP BY 1"))
    conn.close()
    size = db.stat().st_size
    return {"items": items, "with_article": with_article, "bytes": size, "parts": parts,
            "wall": m.wall}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base", type=Path, required=True, help="baseline veille binary")
    p.add_argument("--feeds", type=int, default=1000)
    p.add_argument("--items", type=int, default=20)
    p.add_argument("--seed", type=int, default=42)
    args = p.parse_args()
    need_binaries()
    if not args.base.exists():
        sys.exit(f"no baseline binary at {args.base} (see the docstring: --help)")
    root = DATA / "storage"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    print(f"machine: {machine()}")
    rows = []
    for workload, articles in (("plain", False), ("articles", True)):
        server = FeedServer(args.feeds, args.items, args.seed)
        if articles:
            server.args += ["--articles", "1"]
        with server:
            feeds = server.feeds()
            results = {}
            for label, binary in (("baseline", args.base), ("this", VEILLE)):
                r = measure(binary, root / f"{workload}-{label}", feeds, articles)
                results[label] = r
                print(f"{workload} {label}: {r['items']} items ({r['with_article']} with article text), "
                      f"{r['bytes'] / 1e6:.1f} MB, {r['bytes'] / r['items']:.0f} bytes per item "
                      f"(poll {r['wall']:.1f} s)", flush=True)
                for part, b in sorted(r["parts"].items(), key=lambda kv: -kv[1]):
                    print(f"    {part:<14} {b / r['items']:8.0f} bytes per item")
            rows.append((workload, results))
    print()
    print(f"{args.feeds} feeds x {args.items} items")
    print("| workload | baseline bytes/item | this bytes/item | this / baseline |")
    print("| --- | ---: | ---: | ---: |")
    for workload, r in rows:
        b = r["baseline"]["bytes"] / r["baseline"]["items"]
        t = r["this"]["bytes"] / r["this"]["items"]
        print(f"| {workload} | {b:.0f} | {t:.0f} | {t / b:.2f} |")


if __name__ == "__main__":
    main()
