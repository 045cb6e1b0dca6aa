DROP INDEX IF EXISTS idx_53_app_notification_42_created;
