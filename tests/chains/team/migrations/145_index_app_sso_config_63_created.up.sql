CREATE INDEX idx_145_app_sso_config_63_created ON app_sso_config_63 (created_at DESC);
