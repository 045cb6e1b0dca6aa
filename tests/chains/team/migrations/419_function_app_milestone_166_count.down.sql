DROP FUNCTION IF EXISTS f_419_app_milestone_166_count(UUID);
