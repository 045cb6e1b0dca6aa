-- A hardened target that never deletes an emptied quarter-hour row: the window's delete of those rows is
-- silently skipped, row by row. The hourly table stays exact; only task_usage_quarter_hourly goes wrong.
CREATE FUNCTION keep_empty_quarters() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RETURN NULL;
END
$$;

CREATE TRIGGER trg_keep_empty_quarters BEFORE DELETE ON task_usage_quarter_hourly
    FOR EACH ROW EXECUTE FUNCTION keep_empty_quarters();
