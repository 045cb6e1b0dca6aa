DROP INDEX IF EXISTS idx_170_app_integration_28_created;
