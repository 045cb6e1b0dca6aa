CREATE INDEX idx_240_app_reminder_72_created ON app_reminder_72 (created_at DESC);
