CREATE INDEX idx_288_app_attachment_249_created ON app_attachment_249 (created_at DESC);
