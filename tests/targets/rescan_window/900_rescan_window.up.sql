-- Performance regression (capacity gate): the window rebuilds every bucket of the whole history each tick, as a
-- window whose lower bound was lost would. Correct totals, a cost that grows with the history.
ALTER FUNCTION rollup_task_usage_hourly_window(TIMESTAMPTZ, TIMESTAMPTZ) RENAME TO bench_window_from;

CREATE FUNCTION rollup_task_usage_hourly_window(p_from TIMESTAMPTZ, p_to TIMESTAMPTZ) RETURNS BIGINT
LANGUAGE sql AS $$
    SELECT CASE WHEN p_from >= p_to THEN 0 ELSE bench_window_from('-infinity', p_to) END
$$;
