DROP VIEW IF EXISTS v_292_app_milestone_237_recent;
