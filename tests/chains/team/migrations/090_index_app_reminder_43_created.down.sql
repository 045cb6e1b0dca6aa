DROP INDEX IF EXISTS idx_90_app_reminder_43_created;
