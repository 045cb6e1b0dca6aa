DROP INDEX IF EXISTS idx_154_app_integration_144_created;
