DROP INDEX IF EXISTS idx_46_app_notification_42_created;
