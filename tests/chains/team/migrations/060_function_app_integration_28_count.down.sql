DROP FUNCTION IF EXISTS f_60_app_integration_28_count(UUID);
