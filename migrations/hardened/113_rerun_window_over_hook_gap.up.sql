-- 113 fixes B7: before 103, when the watermark was within 1 hour of the newest task_usage write, the hook stamped
-- it to now() - 5 minutes without rolling up the gap between the old watermark and the stamp. This migration runs
-- the window once more over that gap. The window rebuilds buckets from raw rows, so running it over buckets that
-- are already right changes nothing but their updated_at: the repair is idempotent, and harmless where the hook
-- never skipped anything.
-- Range (a deviation from "the hour plus 5 minutes before the watermark"): the hook only skipped when
--     old watermark >= newest - 1 hour, where newest = max(coalesce(updated_at, created_at)) at hook time,
-- so every skipped row lies in [newest - 1 hour, stamp). newest can be well before the stamp (no usage in the last
-- minutes), which puts the start of the gap up to 2 hours before the stamp or earlier. The window therefore starts
-- at the earlier of "watermark - 65 minutes" and "newest write below the watermark - 1 hour". Finding that newest
-- write reads task_usage once (as 103's own guard does); the window itself only touches rows in the range.
-- When these migrations run long after 103, the range is simply the last hour or so, and the repair is a no-op.
-- The tick lock is taken (waiting at most a minute) so the window cannot interleave with a tick or a backfill.
DO $$
DECLARE
    v_watermark TIMESTAMPTZ;
    v_newest    TIMESTAMPTZ;
BEGIN
    PERFORM set_config('lock_timeout', '60s', true);  -- for this transaction only
    PERFORM pg_advisory_xact_lock(4246);

    SELECT watermark_at INTO v_watermark FROM task_usage_hourly_rollup_state WHERE id = 1;
    SELECT max(coalesce(u.updated_at, u.created_at)) INTO v_newest
      FROM task_usage u
     WHERE coalesce(u.updated_at, u.created_at) < v_watermark;

    PERFORM rollup_task_usage_hourly_window(
                least(v_watermark - INTERVAL '65 minutes', v_newest - INTERVAL '1 hour'), v_watermark);
END;
$$;
