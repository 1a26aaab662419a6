-- 0006: what issue 15 (an adversarial test) asked of storage.
--
-- The item as a feed gave it under a guid, hashed before any markup is turned into text: an
-- item seen again unchanged is recognised without that work.
ALTER TABLE item_sources ADD COLUMN source_hash TEXT;
CREATE INDEX item_sources_feed_source ON item_sources(feed_id, source_hash);
-- A feed that changes its guids between polls: its items are recognised by link or content.
CREATE INDEX items_content_hash ON items(content_hash);
-- Items of a feed's last refresh recognised under a guid never seen before.
ALTER TABLE feeds ADD COLUMN reissued INTEGER NOT NULL DEFAULT 0;
-- Who holds a pending digest's send lease (next_attempt_at is when the lease ends), so that only
-- the holder renews it.
ALTER TABLE digests ADD COLUMN lease_token TEXT;
