DROP INDEX IF EXISTS idx_240_app_reminder_72_created;
