CREATE INDEX idx_338_app_comment_113_created ON app_comment_113 (created_at DESC);
