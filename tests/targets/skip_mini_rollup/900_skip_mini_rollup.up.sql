-- Synthetic: the hourly rollup never gets a gpt-5-mini row (a trigger drops the insert, and with it an upsert's
-- update path); every other model is kept as the target under it keeps it. A run fails only where its workload
-- used gpt-5-mini, so a seed sweep has passing and failing seeds, and its bad keys have no catalogue mechanism.
CREATE FUNCTION skip_mini_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.model = 'gpt-5-mini' THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER skip_mini_rollup BEFORE INSERT ON task_usage_hourly FOR EACH ROW EXECUTE FUNCTION skip_mini_rollup();
