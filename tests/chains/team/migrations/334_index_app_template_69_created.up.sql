CREATE INDEX idx_334_app_template_69_created ON app_template_69 (created_at DESC);
