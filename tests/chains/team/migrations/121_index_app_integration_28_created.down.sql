DROP INDEX IF EXISTS idx_121_app_integration_28_created;
