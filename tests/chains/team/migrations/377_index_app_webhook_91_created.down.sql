DROP INDEX IF EXISTS idx_377_app_webhook_91_created;
