DROP FUNCTION IF EXISTS f_371_app_milestone_237_count(UUID);
