-- The event store: postgres-es's `events` table plus the columns that make it an
-- ordered log. `position` is the global position; `transaction_id` lets readers wait
-- until every transaction that could still add an earlier event has finished (see
-- src/store/log.rs). The commit time comes from track_commit_timestamp (required, checked
-- at start) while PostgreSQL keeps it; `recorded_at`, the insert time, stands in after.
CREATE TABLE events (
    aggregate_type text   NOT NULL,
    aggregate_id   text   NOT NULL,
    sequence       bigint NOT NULL CHECK (sequence >= 0),
    event_type     text   NOT NULL,
    event_version  text   NOT NULL,
    payload        jsonb  NOT NULL,
    metadata       jsonb  NOT NULL,
    position       bigint GENERATED ALWAYS AS IDENTITY,
    transaction_id xid8   NOT NULL DEFAULT pg_current_xact_id(),
    recorded_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);

CREATE UNIQUE INDEX events_position ON events (position);
CREATE INDEX events_log_order ON events (transaction_id, position);

-- One row per log reader (projector, process manager, hub): where it has read to.
CREATE TABLE log_checkpoints (
    reader         text        PRIMARY KEY,
    transaction_id bigint      NOT NULL,
    position       bigint      NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
