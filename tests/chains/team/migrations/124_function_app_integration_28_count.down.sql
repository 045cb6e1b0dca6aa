DROP FUNCTION IF EXISTS f_124_app_integration_28_count(UUID);
