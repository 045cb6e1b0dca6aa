CREATE INDEX idx_344_app_sso_config_122_created ON app_sso_config_122 (created_at DESC);
