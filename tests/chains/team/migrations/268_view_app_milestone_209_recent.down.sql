DROP VIEW IF EXISTS v_268_app_milestone_209_recent;
