-- Rows changed behind the client's back: usage times are cut to whole seconds on insert. Every row stays in its
-- hour, so the rollup still matches the history's truth; only the raw rows differ from what was written.
CREATE FUNCTION usage_whole_seconds() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.created_at := date_trunc('second', NEW.created_at);
    RETURN NEW;
END
$$;

CREATE TRIGGER trg_usage_whole_seconds BEFORE INSERT ON task_usage
    FOR EACH ROW EXECUTE FUNCTION usage_whole_seconds();
