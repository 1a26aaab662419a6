#!/usr/bin/env python3
"""Instructions per pass of the poll's classification, counted by valgrind's cachegrind.

Runs `bench-classify-loop` (bench/classify_loop.rs) with 1 and with N passes over the dev corpus
under `valgrind --tool=cachegrind --cache-sim=yes`; the difference over N-1 is one pass, without
the start-up (rule loading, automaton building). Counts are repeatable for the same binary and
input whatever else the machine runs, unlike timings; compare a baseline binary beside it.

    cargo build --release --example bench-classify-loop
    python3 bench/instructions.py
    python3 bench/instructions.py --base /tmp/bench-classify-loop-main   # a baseline beside it
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOOP = ROOT / "target" / "release" / "examples" / "bench-classify-loop"
COUNTERS = {"I": "instructions", "D": "data references", "D1": "L1 data misses", "LLd": "last-level data misses"}


def count(binary: Path, passes: int) -> tuple[dict[str, int], str]:
    """The cachegrind totals of one run, and what the loop printed."""
    with tempfile.TemporaryDirectory() as tmp:
        run = subprocess.run(
            ["valgrind", "--tool=cachegrind", "--cache-sim=yes",
             f"--cachegrind-out-file={tmp}/out", str(binary), str(passes)],
            capture_output=True, text=True, check=False)
    if run.returncode != 0:
        sys.exit(f"{binary} failed under valgrind:\n{run.stderr[-2000:]}")
    totals = {}
    for key in COUNTERS:
        m = re.search(rf"^==\d+== {key}\s+(?:refs|misses):\s+([\d,]+)", run.stderr, re.M)
        if m:
            totals[key] = int(m.group(1).replace(",", ""))
    # The first line (what the passes wrote); the second has timings, which differ run to run.
    return totals, run.stdout.strip().splitlines()[0]


def per_pass(binary: Path, passes: int) -> tuple[dict[str, float], str]:
    one, _ = count(binary, 1)
    many, printed = count(binary, passes)
    return {k: (many[k] - one[k]) / (passes - 1) for k in many if k in one}, printed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--passes", type=int, default=4, help="passes of the long run (default 4)")
    ap.add_argument("--base", type=Path, help="a baseline bench-classify-loop binary to count beside")
    ap.add_argument("--loop", type=Path, default=LOOP, help=f"the binary to count (default {LOOP})")
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian: apt-get install valgrind)")
    if args.passes < 2:
        sys.exit("--passes must be at least 2")
    if not args.loop.exists():
        sys.exit(f"{args.loop} is missing: cargo build --release --example bench-classify-loop")
    runs = [("this build", args.loop)] + ([("base", args.base)] if args.base else [])
    results = {}
    for name, binary in runs:
        print(f"counting {name} ({binary}), 1 and {args.passes} passes ...", file=sys.stderr, flush=True)
        results[name] = per_pass(binary, args.passes)
    sys.stderr.flush()
    print(f"{'per pass over the dev corpus':<28}" + "".join(f"{n:>16}" for n, _ in runs)
          + (f"{'this ÷ base':>14}" if args.base else ""))
    for key, label in COUNTERS.items():
        row = [results[n][0].get(key) for n, _ in runs]
        if row[0] is None:
            continue
        line = f"{label:<28}" + "".join(f"{v:>16,.0f}" for v in row)
        # A ratio of a few hundred events says nothing.
        if args.base and row[1] and row[1] >= 10_000:
            line += f"{row[0] / row[1]:>14.3f}"
        print(line)
    for name, _ in runs:
        print(f"{name}: {results[name][1]}")
    if args.base and results["this build"][1].split()[-1] != results["base"][1].split()[-1]:
        print("note: the two builds wrote different evidence (evidence_bytes differ)")


if __name__ == "__main__":
    main()
