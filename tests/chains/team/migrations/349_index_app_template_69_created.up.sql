CREATE INDEX idx_349_app_template_69_created ON app_template_69 (created_at DESC);
