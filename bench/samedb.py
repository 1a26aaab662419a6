#!/usr/bin/env python3
"""Compares two databases written by `bench-year` with the same arguments, table by table (the
search index's shadow tables included, page by page), leaving out the columns that hold dates
(`*_at`, `*_date`): the generator dates its year from the moment it runs. Used to check that a
change to the generator or the store writes the same rows (docs/performance.md).

    python3 bench/samedb.py /tmp/base.db /tmp/new.db
"""

from __future__ import annotations

import hashlib
import sqlite3
import sys


def main() -> None:
    a, b = (sqlite3.connect(p) for p in sys.argv[1:3])
    tables = [r[0] for r in a.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name")]
    same = True
    for t in tables:
        cols = [r[1] for r in a.execute(f"PRAGMA table_info('{t}')") if not r[1].endswith(("_at", "_date"))]
        if not cols:
            continue
        order = "segid, term" if t.endswith("_fts_idx") else "rowid"
        sql = f"SELECT {', '.join(chr(34) + c + chr(34) for c in cols)} FROM \"{t}\" ORDER BY {order}"
        try:
            digests = []
            for c in (a, b):
                h, n = hashlib.sha256(), 0
                for row in c.execute(sql):
                    h.update(repr(row).encode())
                    n += 1
                digests.append((n, h.hexdigest()[:16]))
        except sqlite3.OperationalError as e:
            print(f"{t}: skipped ({e})")
            continue
        same &= digests[0] == digests[1]
        print(f"{t}: {digests[0][0]} rows, {'same' if digests[0] == digests[1] else f'DIFFERENT {digests}'}")
    print("the same but for dates" if same else "DIFFERENT")
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
