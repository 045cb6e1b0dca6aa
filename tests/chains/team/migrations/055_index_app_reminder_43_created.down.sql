DROP INDEX IF EXISTS idx_55_app_reminder_43_created;
