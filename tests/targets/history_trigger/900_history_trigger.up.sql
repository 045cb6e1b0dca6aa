-- Performance regression (capacity gate): a per-write trigger that totals the model's usage over an unindexed
-- column, so every application write scans the history and a writer's cost grows with it. It skips COPY (the
-- bench's bulk preload), or the preload itself would be quadratic; the application writes a row at a time.
CREATE FUNCTION bench_model_total() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    IF current_query() !~* '^\s*COPY' THEN
        PERFORM sum(input_tokens) FROM task_usage WHERE provider = NEW.provider AND model = NEW.model;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER bench_model_total
    BEFORE INSERT OR UPDATE ON task_usage
    FOR EACH ROW EXECUTE FUNCTION bench_model_total();
