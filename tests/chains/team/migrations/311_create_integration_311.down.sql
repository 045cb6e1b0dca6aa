DROP TABLE IF EXISTS app_integration_311;
