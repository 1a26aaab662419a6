-- 0009: digests posted to a chat webhook as well as (or instead of) mailed.
--
-- Each destination of a digest is delivered on its own, with the same protocol as mail: pending
-- until the destination accepted it, a lease per attempt, retries with backoff. A failure of one
-- never resends the other.

-- Whether the digest goes by mail (a watch list with only a webhook: 0, and the mail columns of
-- the row are never picked up).
ALTER TABLE digests ADD COLUMN mailed INTEGER NOT NULL DEFAULT 1;

-- The webhook delivery of a digest: the body as composed (sent again unchanged), where it goes
-- (the format, and the host for display: the URL itself is a secret read from the configuration
-- at each attempt) and its state.
CREATE TABLE digest_webhooks (
    digest_id       INTEGER PRIMARY KEY REFERENCES digests(id) ON DELETE CASCADE,
    format          TEXT NOT NULL,
    host            TEXT NOT NULL,
    payload         BLOB NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_at TEXT NOT NULL,
    lease_token     TEXT,
    sent_at         TEXT
);
CREATE INDEX digest_webhooks_pending ON digest_webhooks(status, next_attempt_at);
