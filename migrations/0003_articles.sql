-- 0003: the article page behind an item, when fetched and extracted.
ALTER TABLE items ADD COLUMN article_text TEXT;
-- ok, too_short, consent_wall, login_wall, … or fetch_failed / skipped (see `veille extract --help`).
ALTER TABLE items ADD COLUMN article_status TEXT;
-- Article pages of the feed's last refresh that gave no usable text (feed health).
ALTER TABLE feeds ADD COLUMN article_failures INTEGER NOT NULL DEFAULT 0;
