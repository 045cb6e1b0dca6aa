DROP INDEX IF EXISTS idx_397_app_reminder_43_created;
