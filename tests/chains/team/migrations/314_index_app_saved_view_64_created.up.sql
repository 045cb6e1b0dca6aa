CREATE INDEX idx_314_app_saved_view_64_created ON app_saved_view_64 (created_at DESC);
