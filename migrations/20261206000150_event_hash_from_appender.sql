-- Appends may bring the bytes their hash covers. Rendering payload and metadata as text
-- and hashing them in the trigger cost appends 0.09-0.21 of the insert rate (pgbench,
-- 8 clients); the service renders those bytes itself (src/store/event_hash.rs) and
-- passes them in `hash`, and the trigger only prefixes the predecessor's hash and
-- digests. The predecessor is still read here, in the inserting statement, so no
-- appender can chain onto a hash it merely remembers.
--
-- On insert, then, `hash` is either NULL (the trigger renders the content itself, as
-- before: imports and hand-written SQL) or the event's framed content; after insert it
-- is always the chained hash. A writer that passes anything else stores a hash that
-- `anytrade audit verify` reports as altered.
CREATE OR REPLACE FUNCTION events_chain_hash() RETURNS trigger LANGUAGE plpgsql AS $$
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
    IF NEW.hash IS NULL THEN
        NEW.hash := event_hash(previous, NEW.aggregate_type, NEW.aggregate_id, NEW.sequence,
                               NEW.event_type, NEW.event_version, NEW.payload, NEW.metadata);
    ELSE
        NEW.hash := sha256(previous || NEW.hash);
    END IF;
    RETURN NEW;
END $$;
