CREATE INDEX idx_370_app_template_294_created ON app_template_294 (created_at DESC);
