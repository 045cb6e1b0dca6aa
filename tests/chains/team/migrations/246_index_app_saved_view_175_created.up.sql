CREATE INDEX idx_246_app_saved_view_175_created ON app_saved_view_175 (created_at DESC);
