-- 0005: why a feed's article pages gave no text, and how an item's language was decided.

-- The last batch of article pages fetched for a feed's items (a refresh or `veille refetch`):
-- JSON {"at", "pages", "failed": [{"kind", "count", "example", "status"}]}; NULL until a page
-- was fetched. Kept across 304s and refreshes that fetch no page: it carries its own time.
ALTER TABLE feeds ADD COLUMN article_report TEXT;

-- How the stored language was decided (`text`, `item`, `page`, `url`, `configured`, `feed`) and
-- how sure (0–1); NULL for items stored before this migration.
ALTER TABLE items ADD COLUMN language_source TEXT;
ALTER TABLE items ADD COLUMN language_confidence REAL;
