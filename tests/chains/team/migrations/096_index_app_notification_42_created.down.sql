DROP INDEX IF EXISTS idx_96_app_notification_42_created;
