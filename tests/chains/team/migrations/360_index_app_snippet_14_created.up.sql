CREATE INDEX idx_360_app_snippet_14_created ON app_snippet_14 (created_at DESC);
