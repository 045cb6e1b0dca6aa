CREATE INDEX idx_99_app_sprint_44_created ON app_sprint_44 (created_at DESC);
