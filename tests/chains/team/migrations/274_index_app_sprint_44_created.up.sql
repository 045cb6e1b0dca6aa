CREATE INDEX idx_274_app_sprint_44_created ON app_sprint_44 (created_at DESC);
