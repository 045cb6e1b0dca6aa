COMMENT ON TABLE app_integration_28 IS NULL;
