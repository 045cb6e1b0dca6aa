DROP FUNCTION IF EXISTS f_323_app_milestone_183_count(UUID);
