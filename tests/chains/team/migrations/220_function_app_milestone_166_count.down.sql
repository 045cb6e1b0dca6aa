DROP FUNCTION IF EXISTS f_220_app_milestone_166_count(UUID);
