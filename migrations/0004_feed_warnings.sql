-- 0004: what was wrong with a feed's last document but recovered (malformed XML repaired);
-- NULL when the last successful refresh read a clean document (feed health).
ALTER TABLE feeds ADD COLUMN last_warning TEXT;
