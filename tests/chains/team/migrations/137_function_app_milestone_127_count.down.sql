DROP FUNCTION IF EXISTS f_137_app_milestone_127_count(UUID);
