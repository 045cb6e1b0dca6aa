CREATE INDEX idx_120_app_saved_view_66_created ON app_saved_view_66 (created_at DESC);
