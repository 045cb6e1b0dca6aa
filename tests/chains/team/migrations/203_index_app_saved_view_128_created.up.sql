CREATE INDEX idx_203_app_saved_view_128_created ON app_saved_view_128 (created_at DESC);
