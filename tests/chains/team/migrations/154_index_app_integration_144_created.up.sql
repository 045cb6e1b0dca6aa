CREATE INDEX idx_154_app_integration_144_created ON app_integration_144 (created_at DESC);
