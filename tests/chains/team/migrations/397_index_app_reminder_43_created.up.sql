CREATE INDEX idx_397_app_reminder_43_created ON app_reminder_43 (created_at DESC);
