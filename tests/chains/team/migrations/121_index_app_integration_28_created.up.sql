CREATE INDEX idx_121_app_integration_28_created ON app_integration_28 (created_at DESC);
