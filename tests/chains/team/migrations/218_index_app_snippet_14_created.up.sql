CREATE INDEX idx_218_app_snippet_14_created ON app_snippet_14 (created_at DESC);
