-- 0002: digests per watch list, delivered exactly once.
--
-- A digest is composed (message bytes, Message-ID, envelope) and its items claimed in one
-- transaction; it stays 'pending' until a transport accepts it, then becomes 'sent'. A crash or a
-- failed send leaves it pending: the next run sends the same bytes, and its items are never
-- claimed by another digest of the same watch list.
CREATE TABLE digests (
    id              INTEGER PRIMARY KEY,
    watchlist       TEXT NOT NULL,
    message_id      TEXT NOT NULL UNIQUE,
    subject         TEXT NOT NULL,
    envelope_from   TEXT NOT NULL,
    envelope_to     TEXT NOT NULL,   -- JSON array of addresses
    message         BLOB NOT NULL,   -- the RFC 5322 message as composed
    item_count      INTEGER NOT NULL,
    composed_at     TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_at TEXT NOT NULL,
    sent_at         TEXT
);
CREATE INDEX digests_pending ON digests(status, next_attempt_at);
CREATE INDEX digests_watchlist ON digests(watchlist, composed_at);

-- Which digest of a watch list carries an item: at most one per (watch list, item).
CREATE TABLE digest_items (
    watchlist TEXT NOT NULL,
    item_id   INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    digest_id INTEGER NOT NULL REFERENCES digests(id) ON DELETE CASCADE,
    PRIMARY KEY (watchlist, item_id)
);
CREATE INDEX digest_items_digest ON digest_items(digest_id);

-- Per watch list: from when items count (first sight minus a look-back) and the next fire time
-- computed from `schedule` (cron and time zone); a changed schedule recomputes it.
CREATE TABLE watchlist_state (
    watchlist    TEXT PRIMARY KEY,
    since        TEXT NOT NULL,
    schedule     TEXT NOT NULL,
    next_fire_at TEXT NOT NULL
);
