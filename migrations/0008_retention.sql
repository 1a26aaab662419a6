-- 0008: retention and smaller rows.

-- Items pruned by retention leave a tombstone, so that one seen again in a feed is not new:
-- `key` is the first 8 bytes of a SHA-256 of the item's (feed, guid) or of its canonical URL
-- (see `store::retention`), `seen_on` the day (days since 1970-01-01) it was pruned or last
-- seen again in a feed since. Tombstones not seen for the retention period are removed.
CREATE TABLE tombstones (
    key     INTEGER PRIMARY KEY,
    seen_on INTEGER NOT NULL
);
CREATE INDEX tombstones_seen ON tombstones(seen_on);

-- The links of the item's feed HTML (one per line), kept instead of the HTML: the text is derived
-- from the HTML when the item is parsed, and story grouping only looks for links in it. Items
-- stored before this migration keep their HTML (and no links) until they are pruned.
ALTER TABLE items ADD COLUMN links TEXT;

-- Small facts of the service's upkeep (when retention last ran).
CREATE TABLE maintenance (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Long texts (`text`, `article_text`) are stored compressed (a BLOB of their deflate stream, see
-- `store::packed`): the search index reads them through veille_text(), which gives the text back
-- whether stored compressed or not.
DROP TRIGGER items_fts_insert;
CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN
    INSERT INTO items_fts (rowid, title, body)
        VALUES (new.id, veille_fold(new.title), veille_fold(veille_text(COALESCE(new.article_text, new.text))));
END;
DROP TRIGGER items_fts_update;
CREATE TRIGGER items_fts_update AFTER UPDATE OF title, text, article_text ON items BEGIN
    DELETE FROM items_fts WHERE rowid = old.id;
    INSERT INTO items_fts (rowid, title, body)
        VALUES (new.id, veille_fold(new.title), veille_fold(veille_text(COALESCE(new.article_text, new.text))));
END;
