DROP FUNCTION IF EXISTS f_373_app_integration_311_count(UUID);
