-- Tamper evidence: every event stores a SHA-256 chained over the hash of the event before
-- it in the same aggregate and over its own content, so editing, deleting or reordering a
-- stored event breaks the chain from that event on (`anytrade audit verify` finds it).
--
-- The hashed bytes, each text as its UTF-8 length (8 bytes, big-endian) then its bytes:
--   previous hash (empty for sequence 1) · aggregate_type · aggregate_id ·
--   sequence (8 bytes, big-endian) · event_type · event_version ·
--   payload and metadata in jsonb's canonical text form.
-- src/audit/chain.rs computes the same bytes independently when it verifies.

CREATE FUNCTION event_hash(previous bytea, aggregate_type text, aggregate_id text,
                           sequence bigint, event_type text, event_version text,
                           payload jsonb, metadata jsonb)
RETURNS bytea LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT sha256(
        previous
        || int8send(octet_length(aggregate_type)::bigint) || convert_to(aggregate_type, 'UTF8')
        || int8send(octet_length(aggregate_id)::bigint) || convert_to(aggregate_id, 'UTF8')
        || int8send(sequence)
        || int8send(octet_length(event_type)::bigint) || convert_to(event_type, 'UTF8')
        || int8send(octet_length(event_version)::bigint) || convert_to(event_version, 'UTF8')
        || int8send(octet_length(payload::text)::bigint) || convert_to(payload::text, 'UTF8')
        || int8send(octet_length(metadata::text)::bigint) || convert_to(metadata::text, 'UTF8'))
$$;

ALTER TABLE events ADD COLUMN hash bytea;

-- The chains of the events already stored, oldest first within each aggregate.
DO $$
DECLARE
    event record;
    previous bytea;
    chain text[] := ARRAY[]::text[];
BEGIN
    FOR event IN
        SELECT * FROM events ORDER BY aggregate_type, aggregate_id, sequence
    LOOP
        IF chain IS DISTINCT FROM ARRAY[event.aggregate_type, event.aggregate_id] THEN
            chain := ARRAY[event.aggregate_type, event.aggregate_id];
            previous := '';
        END IF;
        previous := event_hash(previous, event.aggregate_type, event.aggregate_id,
                               event.sequence, event.event_type, event.event_version,
                               event.payload, event.metadata);
        UPDATE events SET hash = previous
         WHERE aggregate_type = event.aggregate_type AND aggregate_id = event.aggregate_id
           AND sequence = event.sequence;
    END LOOP;
END $$;

ALTER TABLE events ALTER COLUMN hash SET NOT NULL;

-- An aggregate's events are numbered from 1, as cqrs-es numbers them.
ALTER TABLE events DROP CONSTRAINT events_sequence_check;
ALTER TABLE events ADD CONSTRAINT events_sequence_from_one CHECK (sequence >= 1);

-- Every append gets its hash here, whoever writes it. An event whose predecessor is not
-- stored is refused: a gap would be a broken chain from the start.
CREATE FUNCTION events_chain_hash() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    previous bytea := '';
BEGIN
    IF NEW.sequence > 1 THEN
        SELECT hash INTO previous FROM events
         WHERE aggregate_type = NEW.aggregate_type AND aggregate_id = NEW.aggregate_id
           AND sequence = NEW.sequence - 1;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'event % of % % follows no stored event', NEW.sequence,
                NEW.aggregate_type, NEW.aggregate_id
                USING ERRCODE = 'foreign_key_violation';
        END IF;
    END IF;
    NEW.hash := event_hash(previous, NEW.aggregate_type, NEW.aggregate_id, NEW.sequence,
                           NEW.event_type, NEW.event_version, NEW.payload, NEW.metadata);
    RETURN NEW;
END $$;

CREATE TRIGGER events_chain_hash BEFORE INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION events_chain_hash();

-- Each run of `anytrade audit verify`: when, how much it checked, and the first broken
-- link of each broken chain (empty when the log is intact).
CREATE TABLE audit_verifications (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT now(),
    events      bigint      NOT NULL,
    chains      bigint      NOT NULL,
    broken      jsonb       NOT NULL
);
