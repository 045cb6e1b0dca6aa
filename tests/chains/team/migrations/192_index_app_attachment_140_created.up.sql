CREATE INDEX idx_192_app_attachment_140_created ON app_attachment_140 (created_at DESC);
