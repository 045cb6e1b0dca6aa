CREATE INDEX idx_226_app_mention_143_created ON app_mention_143 (created_at DESC);
