CREATE INDEX idx_96_app_notification_42_created ON app_notification_42 (created_at DESC);
