CREATE INDEX idx_38_app_attachment_20_created ON app_attachment_20 (created_at DESC);
