-- 0005: the analyst web view: full-text search over every item, judgements, the key that signs
-- judgement links, how an item's language was decided, and indexes for browsing.

-- How the stored language was decided (`text`, `item`, `page`, `url`, `configured`, `feed`) and
-- how sure; NULL for items stored before this migration.
ALTER TABLE items ADD COLUMN language_source TEXT;
ALTER TABLE items ADD COLUMN language_confidence REAL;

-- Matches newest first (the matches page, Atom feeds): each match carries its item's date
-- (published, else fetched) and language, kept by triggers, so that a page is read from one
-- index in date order, and filters on topic, score and language are checked in the index
-- without reading the items they reject.
ALTER TABLE matches ADD COLUMN item_date TEXT;
ALTER TABLE matches ADD COLUMN item_language TEXT;
UPDATE matches SET
    item_date = (SELECT COALESCE(published_at, fetched_at) FROM items WHERE items.id = matches.item_id),
    item_language = (SELECT language FROM items WHERE items.id = matches.item_id);
CREATE TRIGGER matches_item_fields AFTER INSERT ON matches BEGIN
    UPDATE matches SET
        item_date = (SELECT COALESCE(published_at, fetched_at) FROM items WHERE items.id = new.item_id),
        item_language = (SELECT language FROM items WHERE items.id = new.item_id)
    WHERE rowid = new.rowid;
END;
CREATE TRIGGER items_fields_to_matches AFTER UPDATE OF published_at, fetched_at, language ON items BEGIN
    UPDATE matches SET item_date = COALESCE(new.published_at, new.fetched_at), item_language = new.language
    WHERE item_id = new.id;
END;
CREATE INDEX matches_date ON matches(item_date, item_id, topic, score, item_language);
CREATE INDEX matches_topic_date ON matches(topic, item_date, item_id, score, item_language);
CREATE INDEX matches_language_date ON matches(item_language, item_date, item_id, topic, score);
DROP INDEX matches_topic;
-- The digests that carried an item (item page).
CREATE INDEX digest_items_item ON digest_items(item_id);

-- Full-text index of every item, matched or not: title and text (the article text when one was
-- extracted). Text is folded by veille_fold() (lower case, diacritics and special letters of the
-- 24 EU languages: ß, ł, ħ, đ, Greek tonos and final sigma) before the unicode61 tokenizer sees
-- it; search terms are folded the same way. Contentless (the text stays in `items` only), rows
-- keyed by items.id; triggers keep it in step with `items`, so deleting an item deletes its row.
CREATE VIRTUAL TABLE items_fts USING fts5(
    title, body,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO items_fts (rowid, title, body)
    SELECT id, veille_fold(title), veille_fold(COALESCE(article_text, text)) FROM items;
CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN
    INSERT INTO items_fts (rowid, title, body)
        VALUES (new.id, veille_fold(new.title), veille_fold(COALESCE(new.article_text, new.text)));
END;
CREATE TRIGGER items_fts_update AFTER UPDATE OF title, text, article_text ON items BEGIN
    DELETE FROM items_fts WHERE rowid = old.id;
    INSERT INTO items_fts (rowid, title, body)
        VALUES (new.id, veille_fold(new.title), veille_fold(COALESCE(new.article_text, new.text)));
END;
CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN
    DELETE FROM items_fts WHERE rowid = old.id;
END;

-- An analyst's verdict on an item for a topic: `relevant` or `not_relevant` (the item matched),
-- `should_match` (it did not: a known miss). Append-only: the latest row per (item, topic) is the
-- verdict in force. `matched` and `score` are the item's state for the topic when judged.
CREATE TABLE judgements (
    id        INTEGER PRIMARY KEY,
    item_id   INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    topic     TEXT NOT NULL,
    verdict   TEXT NOT NULL CHECK (verdict IN ('relevant', 'not_relevant', 'should_match')),
    matched   INTEGER NOT NULL,
    score     REAL,
    via       TEXT NOT NULL CHECK (via IN ('page', 'link')),
    judged_at TEXT NOT NULL
);
CREATE INDEX judgements_item ON judgements(item_id, topic, id);

-- Secrets generated on first start and kept with the data (the key that signs judgement links
-- and CSRF tokens).
CREATE TABLE secrets (
    name       TEXT PRIMARY KEY,
    value      BLOB NOT NULL,
    created_at TEXT NOT NULL
);
