-- What the health monitor last saw of each bot. Volatile state, not a read model: it
-- changes on every check, so it lives here and only transitions (unhealthy, recovered,
-- stopped) become events.
CREATE TABLE bot_health (
    bot_id               uuid PRIMARY KEY,
    last_seen_at         timestamptz,
    consecutive_failures integer NOT NULL DEFAULT 0,
    last_error           text,
    -- freqtrade's own view: its state (running, paused, stopped), API version, and the
    -- time of its last trading loop.
    bot_state            text,
    api_version          double precision,
    last_process_at      timestamptz,
    checked_at           timestamptz NOT NULL
);
