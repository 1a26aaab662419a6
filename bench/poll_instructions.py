#!/usr/bin/env python3
"""Instructions per item of a first poll, counted by valgrind's callgrind, per stage.

Serves N of the poll benchmark's feeds (bench/server.rs, 20 items each, the configuration
bench/poll.py writes) and runs `veille poll --all` on fresh state under `valgrind
--tool=callgrind`, for this build and for every `--base NAME=PATH` beside it. Prints the
instructions per item of the whole poll and of its stages (inclusive counts of the functions named
in STAGES), and this build ÷ each baseline. Counts are repeatable for the same binary and input
whatever else the machine runs, unlike timings.

Two things callgrind counts differently from the CPU: a `rep stosb` (glibc's memset of large
blocks, as in the deflate compressor's reset) counts one instruction per byte, and SHA-256 runs
its portable code (valgrind hides the CPU's SHA extensions). Compare builds, not absolutes.

    cargo build --release --bin veille --example bench-server
    python3 bench/poll_instructions.py                                   # 100 feeds, 2,000 items
    python3 bench/poll_instructions.py --base main=/tmp/veille-main      # a baseline beside it
"""

from __future__ import annotations

import argparse
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

from common import SERVER, VEILLE, FeedServer
from poll import veille_config

# Stage → the function whose inclusive count stands for it (demangled name, as callgrind_annotate
# prints it). A stage missing from a binary's profile (inlined, renamed) prints as `-`.
STAGES = {
    "parse the feed": "veille::pipeline::parse::parse_feed_raw",
    "markup to text": "veille::pipeline::clean::finish",
    "language detection": "veille::pipeline::language::detect",
    "classification": "veille::pipeline::classify::Classifier::matches",
    "  of which: building the term trie": "veille::pipeline::classify::Classifier::searched_forms_trie",
    "prepare (deflate, fold for the index)": "veille::store::items::NewItem::prepare",
    "store (SQLite, full-text index)": "veille::store::items::<impl veille::store::Store>::store_items",
}
# Older builds named the trie's builder so.
ALIASES = {"veille::pipeline::classify::Classifier::searched_forms_trie":
           ["veille::pipeline::classify::Classifier::build_trie"]}


def inclusive(profile: Path) -> tuple[int, dict[str, int]]:
    """The total and the inclusive count of every function of a callgrind profile."""
    out = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(profile)],
                         capture_output=True, text=True, check=True).stdout
    total = int(re.search(r"^([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS", out, re.M).group(1).replace(",", ""))
    counts: dict[str, int] = {}
    for m in re.finditer(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+\?\?\?:(.+?) \[", out, re.M):
        counts.setdefault(m.group(2), int(m.group(1).replace(",", "")))
    return total, counts


def count(binary: Path, config: Path, items: int) -> tuple[int, dict[str, int]]:
    """Callgrind's counts of one first poll by `binary` on the fresh state beside `config`."""
    with tempfile.TemporaryDirectory() as tmp:
        profile = Path(tmp) / "callgrind.out"
        run = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={profile}",
                              str(binary), "--config", str(config), "poll", "--all"],
                             capture_output=True, text=True, env={"RUST_LOG": "error", "PATH": "/usr/bin:/bin"})
        if run.returncode != 0:
            sys.exit(f"{binary} failed under valgrind:\n{run.stderr[-2000:]}")
        stored = sqlite3.connect(config.parent / "veille.db").execute("SELECT COUNT(*) FROM items").fetchone()[0]
        if stored != items:
            sys.exit(f"{binary} stored {stored} items, expected {items}")
        return inclusive(profile)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--feeds", type=int, default=100)
    ap.add_argument("--items", type=int, default=20)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--veille", type=Path, default=VEILLE, help=f"the binary to count (default {VEILLE})")
    ap.add_argument("--base", action="append", default=[], metavar="NAME=PATH",
                    help="a baseline veille binary to count beside (repeatable)")
    args = ap.parse_args()
    if shutil.which("valgrind") is None or shutil.which("callgrind_annotate") is None:
        sys.exit("valgrind is not installed (Debian: apt-get install valgrind)")
    runs = [("this build", args.veille)]
    for spec in args.base:
        name, _, path = spec.partition("=")
        runs.append((name, Path(path)))
    for _, binary in runs + [("server", SERVER)]:
        if not binary.exists():
            sys.exit(f"{binary} is missing: cargo build --release --bin veille --example bench-server")
    items = args.feeds * args.items
    results = {}
    with FeedServer(args.feeds, args.items, args.seed) as server, tempfile.TemporaryDirectory() as tmp:
        feeds = server.feeds()
        for i, (name, binary) in enumerate(runs):
            config = veille_config(Path(tmp) / f"run{i}", feeds, 16, 16)
            print(f"counting {name} ({binary}): {args.feeds} feeds, {items} items ...", file=sys.stderr, flush=True)
            results[name] = count(binary, config, items)
    names = [n for n, _ in runs]
    print(f"{'instructions per item, first poll':<40}" + "".join(f"{n:>14}" for n in names)
          + "".join(f"{'this ÷ ' + n:>18}" for n in names[1:]))

    def row(label: str, values: list[int | None]) -> None:
        cells = "".join(f"{v / items:>14,.0f}" if v else f"{'-':>14}" for v in values)
        ratios = "".join(f"{values[0] / v:>18.3f}" if v and values[0] else f"{'-':>18}" for v in values[1:])
        print(f"{label:<40}{cells}{ratios}")

    row("whole poll", [results[n][0] for n in names])
    for label, function in STAGES.items():
        row(label, [next((results[n][1][f] for f in [function, *ALIASES.get(function, [])]
                          if f in results[n][1]), None) for n in names])


if __name__ == "__main__":
    main()
