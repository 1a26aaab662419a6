#!/usr/bin/env python3
"""Extraction comparison: veille vs trafilatura on the article-extraction benchmark.

Runs trafilatura over every page of DIR (html/<id>.html.gz + ground-truth.json), timing the
extraction call only (pages are read, decompressed and decoded before the clock starts, as veille's
`eval-extract` does), writes its texts to bench/data/trafilatura/<id>.txt, and has
`veille eval-extract DIR --predictions bench/data/trafilatura` score them with the same metric code
that scores veille's own output (`veille eval-extract DIR`) in the same run.

    cargo build --release --bin veille
    python3 bench/extract.py                      # DIR defaults to ../shared/extraction-benchmark
    python3 bench/extract.py /path/to/extraction-benchmark

trafilatura is installed from the package index into bench/.venv on first use.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys

from common import DATA, ROOT, VEILLE, machine, venv

TRAFILATURA = "trafilatura==2.3.1"
# justext (a trafilatura dependency) imports lxml.html.clean, now a separate package.
LXML_CLEAN = "lxml_html_clean==0.4.6"

# Runs inside the venv: extraction with trafilatura's defaults except comments (the ground truth
# has none), one page at a time; prints one "id<TAB>milliseconds" line per page.
WORKER = r"""
import gzip, json, sys, time
from pathlib import Path
import trafilatura
from trafilatura.utils import decode_file
src, out = Path(sys.argv[1]), Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
truth = json.loads((src / "ground-truth.json").read_text())
for doc_id, t in sorted(truth.items()):
    html = decode_file(gzip.decompress((src / "html" / f"{doc_id}.html.gz").read_bytes()))
    start = time.perf_counter()
    text = trafilatura.extract(html, url=t.get("url"), include_comments=False)
    ms = (time.perf_counter() - start) * 1000
    (out / f"{doc_id}.txt").write_text(text or "")
    print(f"{doc_id}\t{ms:.3f}", flush=True)
"""


def quantile(values: list[float], q: float) -> float:
    """Nearest rank, as veille's eval-extract computes it."""
    s = sorted(values)
    rank = min(max(int(-(-q * len(s) // 1)), 1), len(s))
    return s[rank - 1]


def scores(output: str) -> dict:
    """F1, precision, recall (and median / p95 ms when timed) from eval-extract's output."""
    out = {}
    for key in ("F1", "precision", "recall"):
        m = re.search(rf"^{key}\s+([0-9.]+)", output, re.M)
        out[key] = float(m.group(1)) if m else float("nan")
    m = re.search(r"median ([0-9.]+) ms, p95 ([0-9.]+) ms", output)
    if m:
        out["median"], out["p95"] = float(m.group(1)), float(m.group(2))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dir", nargs="?", default=str(ROOT.parent / "shared" / "extraction-benchmark"))
    args = p.parse_args()
    if not os.path.exists(os.path.join(args.dir, "ground-truth.json")):
        sys.exit(f"no ground-truth.json in {args.dir}")
    if not VEILLE.exists():
        sys.exit("build veille first: cargo build --release --bin veille")
    bin = venv(TRAFILATURA, LXML_CLEAN)
    texts = DATA / "trafilatura"
    DATA.mkdir(exist_ok=True)

    print(f"machine: {machine()}", flush=True)
    veille = subprocess.run([str(VEILLE), "eval-extract", args.dir, "--worst", "0"],
                            capture_output=True, text=True, check=True).stdout
    v = scores(veille)
    print(f"veille: F1 {v['F1']:.4f}, median {v['median']:.2f} ms", flush=True)

    worker = subprocess.run([str(bin / "python"), "-c", WORKER, args.dir, str(texts)],
                            capture_output=True, text=True, check=True).stdout
    times = [float(line.split("\t")[1]) for line in worker.splitlines() if "\t" in line]
    scored = subprocess.run([str(VEILLE), "eval-extract", args.dir, "--predictions", str(texts),
                             "--worst", "0"], capture_output=True, text=True, check=True).stdout
    t = scores(scored) | {"median": quantile(times, 0.5), "p95": quantile(times, 0.95)}
    version = subprocess.run([str(bin / "python"), "-c", "import trafilatura; print(trafilatura.__version__)"],
                             capture_output=True, text=True).stdout.strip()
    print(f"trafilatura {version}: F1 {t['F1']:.4f}, median {t['median']:.2f} ms ({len(times)} pages)")

    rows = ["| extractor | F1 | precision | recall | median ms/page | p95 ms/page |",
            "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, s in ((f"veille", v), (f"trafilatura {version}", t)):
        rows.append(f"| {name} | {s['F1']:.4f} | {s['precision']:.4f} | {s['recall']:.4f} | "
                    f"{s['median']:.2f} | {s['p95']:.2f} |")
    rows.append(f"| **trafilatura / veille** | | | | **{t['median'] / v['median']:.1f}×** | "
                f"**{t['p95'] / v['p95']:.1f}×** |")
    md = "\n".join(rows)
    print()
    print(md)
    (DATA / "extract-results.md").write_text(md + "\n")


if __name__ == "__main__":
    main()
