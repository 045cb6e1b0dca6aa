DROP FUNCTION IF EXISTS f_301_app_milestone_127_count(UUID);
