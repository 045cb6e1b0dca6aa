CREATE INDEX idx_377_app_webhook_91_created ON app_webhook_91 (created_at DESC);
