-- Events restored by `anytrade events import` keep the time they first committed: their
-- transaction is the import's, so the commit timestamp PostgreSQL keeps for it is the
-- import's. Readers take this column first when it is set (see projections/src/log.rs).
ALTER TABLE events ADD COLUMN original_committed_at timestamptz;
