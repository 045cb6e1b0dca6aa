DROP FUNCTION IF EXISTS f_305_app_milestone_237_count(UUID);
