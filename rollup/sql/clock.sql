-- The bench's simulated clock, installed before any migration. The database's search_path puts this schema
-- ahead of pg_catalog, so every unqualified now() of the target (column defaults, plpgsql and SQL function
-- bodies) reads simulated time without a line of the target being edited.
CREATE SCHEMA rollup_clock;

-- The shared clock: one row, microseconds since the Unix epoch. The bench moves it; sessions that do not
-- choose their own transaction start time read it.
CREATE TABLE rollup_clock.clock (
    id     boolean PRIMARY KEY DEFAULT true CHECK (id),
    now_us bigint  NOT NULL
);
INSERT INTO rollup_clock.clock (id, now_us) VALUES (true, 0);

-- now() = the transaction's start time, in simulated time. A transaction may name its own start time by
-- setting rollup_clock.txn_now (microseconds) locally before anything else; otherwise the first call pins
-- the shared clock's value for the rest of the transaction, as pg_catalog.now() stays fixed.
CREATE FUNCTION rollup_clock.now() RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
DECLARE
    us text := current_setting('rollup_clock.txn_now', true);
BEGIN
    IF us IS NULL OR us = '' THEN
        SELECT c.now_us::text INTO us FROM rollup_clock.clock c;
        PERFORM set_config('rollup_clock.txn_now', us, true);
    END IF;
    RETURN timestamptz 'epoch' + us::bigint * interval '1 microsecond';
END
$$;
