CREATE INDEX idx_67_app_sso_config_65_created ON app_sso_config_65 (created_at DESC);
