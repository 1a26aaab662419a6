#!/usr/bin/env python3
"""Regenerates expected.tsv: what a lenient reference reader (Python feedparser 6) reads from
each file of this corpus, served with the same Content-Type as the Rust test serves it.

    python3 -m venv /tmp/fp && /tmp/fp/bin/pip install 'feedparser==6.0.*'
    /tmp/fp/bin/python tests/data/realworld/expected.py

Columns: file, content type, items (entries), items with a link (an http(s) URL once resolved
against the file's URL, as veille counts them: feedparser also calls an id such as `tag:…` or
`urn:uuid:…` a link), whether the document holds an <item> or <entry> element. The Rust test (tests/it/realworld.rs) needs none of this: it reads
the committed expected.tsv.
"""

import gzip
import pathlib
import re
import urllib.parse

import feedparser

HERE = pathlib.Path(__file__).resolve().parent
HEADER = re.compile(rb"^Header:\s+Content-type:(.*)$", re.MULTILINE | re.IGNORECASE)


def body(path: pathlib.Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def content_type(data: bytes) -> str:
    """The Content-Type a feedparser test file asks for in its `Header:` comment, else
    application/xml (the XML declaration then says the encoding)."""
    for text in (data, data.decode("utf-16", "ignore").encode(), data.decode("utf-32", "ignore").encode()):
        m = HEADER.search(text)
        if m:
            return m.group(1).strip().decode()
    return "application/xml"


def is_web_link(link: str | None, rel: str) -> bool:
    if not link:
        return False
    try:
        url = urllib.parse.urljoin(f"http://127.0.0.1/{rel}", link.strip())
        return urllib.parse.urlsplit(url).scheme in ("http", "https")
    except ValueError:
        return False


def holds_items(data: bytes) -> bool:
    # The same crude test as the Rust side: an <item or <entry start tag in the bytes, in
    # UTF-8/ASCII or in UTF-16.
    for needle in (b"<item", b"<entry", b":item", b":entry"):
        if needle in data or needle.decode().encode("utf-16-le") in data or needle.decode().encode("utf-16-be") in data:
            return True
    return False


def main() -> None:
    files = sorted(p for p in HERE.rglob("*") if p.is_file() and p.parent != HERE and p.parent.name != "LICENSES")
    rows = []
    for path in files:
        data = body(path)
        ctype = content_type(data)
        parsed = feedparser.parse(data, response_headers={"content-type": ctype})
        items = len(parsed.entries)
        rel = path.relative_to(HERE).as_posix()
        links = sum(1 for e in parsed.entries if is_web_link(e.get("link"), rel))
        rows.append(f"{rel}\t{ctype}\t{items}\t{links}\t{int(holds_items(data))}")
    out = HERE / "expected.tsv"
    out.write_text("file\tcontent_type\titems\tlinks\tholds_items\n" + "\n".join(rows) + "\n")
    with_items = sum(1 for r in rows if int(r.split("\t")[2]) > 0)
    print(f"{len(rows)} files, {with_items} with items, "
          f"{sum(int(r.split(chr(9))[2]) for r in rows)} items, "
          f"{sum(int(r.split(chr(9))[3]) for r in rows)} with a link -> {out}")


if __name__ == "__main__":
    main()
