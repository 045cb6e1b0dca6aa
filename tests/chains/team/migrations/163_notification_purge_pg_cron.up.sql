-- Nightly purge of read notifications by pg_cron where the server has it; elsewhere the app purges them.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_cron;
    PERFORM cron.schedule('purge_read_notifications', '17 3 * * *',
                          $job$DELETE FROM app_notification_ts WHERE created_at < now() - interval '30 days'$job$);
EXCEPTION
    WHEN OTHERS THEN
        RAISE NOTICE 'pg_cron is not available (%): the app purges notifications', SQLERRM;
END;
$$;

CREATE TABLE app_notification_ts (id BIGSERIAL PRIMARY KEY, created_at TIMESTAMPTZ NOT NULL DEFAULT now());
