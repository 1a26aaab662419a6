-- 0010: a new item's full-text row is written by the store once per feed's batch, in one
-- statement (`store::items`), instead of by a trigger per inserted row. FTS5 writes its pending
-- terms to disk at every statement savepoint, and the trigger ran inside the savepoint of each
-- row's INSERT: the index was flushed, and its segments merged, once per item.
DROP TRIGGER items_fts_insert;
