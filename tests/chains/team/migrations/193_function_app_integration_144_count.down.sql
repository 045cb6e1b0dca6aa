DROP FUNCTION IF EXISTS f_193_app_integration_144_count(UUID);
