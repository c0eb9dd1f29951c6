-- When each strategy name was reserved. A reservation whose create or rename never
-- reached the log (the service was killed in between) would otherwise hold its name
-- forever; one older than a grace period, whose holder does not have that name in the
-- log, may be taken over (src/strategy_names.rs).
ALTER TABLE strategy_names ADD COLUMN reserved_at timestamptz NOT NULL DEFAULT now();
