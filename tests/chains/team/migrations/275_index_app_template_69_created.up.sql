CREATE INDEX idx_275_app_template_69_created ON app_template_69 (created_at DESC);
