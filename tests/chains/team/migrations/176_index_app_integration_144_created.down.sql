DROP INDEX IF EXISTS idx_176_app_integration_144_created;
