-- 0001: feeds with their health, items, where each item was seen, topic matches.
CREATE TABLE feeds (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    url             TEXT NOT NULL,
    title           TEXT,
    language        TEXT,
    enabled         INTEGER NOT NULL DEFAULT 1,
    etag            TEXT,
    last_modified   TEXT,
    last_status     INTEGER,
    error_count     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    last_fetch_at   TEXT,
    last_success_at TEXT,
    next_check_at   TEXT,
    created_at      TEXT NOT NULL
);

CREATE TABLE items (
    id            INTEGER PRIMARY KEY,
    feed_id       INTEGER NOT NULL REFERENCES feeds(id),
    guid          TEXT NOT NULL,
    url           TEXT,
    canonical_url TEXT,
    title         TEXT NOT NULL,
    summary_html  TEXT,
    content_html  TEXT,
    text          TEXT NOT NULL,
    author        TEXT,
    published_at  TEXT,
    fetched_at    TEXT NOT NULL,
    content_hash  TEXT NOT NULL,
    language      TEXT
);
CREATE UNIQUE INDEX items_canonical_url ON items(canonical_url) WHERE canonical_url IS NOT NULL;
CREATE INDEX items_fetched_at ON items(fetched_at);
CREATE INDEX items_feed ON items(feed_id);

-- Every (feed, guid) under which an item was seen: dedupe per feed by guid, across feeds by URL.
CREATE TABLE item_sources (
    feed_id       INTEGER NOT NULL REFERENCES feeds(id),
    guid          TEXT NOT NULL,
    item_id       INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    first_seen_at TEXT NOT NULL,
    PRIMARY KEY (feed_id, guid)
);
CREATE INDEX item_sources_item ON item_sources(item_id);

-- Topic matches with their evidence (JSON), replaced when an item is reclassified.
CREATE TABLE matches (
    item_id       INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    topic         TEXT NOT NULL,
    score         REAL NOT NULL,
    evidence      TEXT NOT NULL,
    classified_at TEXT NOT NULL,
    PRIMARY KEY (item_id, topic)
);
CREATE INDEX matches_topic ON matches(topic);
