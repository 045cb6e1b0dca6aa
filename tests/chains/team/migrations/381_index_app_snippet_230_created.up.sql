CREATE INDEX idx_381_app_snippet_230_created ON app_snippet_230 (created_at DESC);
