-- 0011: deleting an item no longer merges the full-text index inside its DELETE. With FTS5's
-- default `deletemerge` (10 %), deleting a row of a contentless-delete index whose level already
-- holds a tenth of deleted rows rewrites part of that level there and then: during a prune one
-- item's delete took up to 0.6 s (2 s on a loaded machine), holding the write lock, and a poll's
-- write could start the same work. Retention now merges those levels itself, in steps bounded
-- by its time budget (`Store::search_index_merge_step`, which turns `deletemerge` on for its
-- own transaction only).
INSERT INTO items_fts (items_fts, rank) VALUES ('deletemerge', 0);
