COMMENT ON TABLE app_integration_144 IS NULL;
