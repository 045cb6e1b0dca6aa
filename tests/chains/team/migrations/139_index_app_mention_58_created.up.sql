CREATE INDEX idx_139_app_mention_58_created ON app_mention_58 (created_at DESC);
