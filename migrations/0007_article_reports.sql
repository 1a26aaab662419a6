-- 0007: why a feed's article pages gave no text.
--
-- (How an item's language was decided, `items.language_source` and `language_confidence`, is
-- added by 0005_web.)

-- The last batch of article pages fetched for a feed's items (a refresh or `veille refetch`):
-- JSON {"at", "pages", "failed": [{"kind", "count", "example", "status"}]}; NULL until a page
-- was fetched. Kept across 304s and refreshes that fetch no page: it carries its own time.
ALTER TABLE feeds ADD COLUMN article_report TEXT;
