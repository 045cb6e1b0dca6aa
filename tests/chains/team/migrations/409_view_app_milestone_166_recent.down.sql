DROP VIEW IF EXISTS v_409_app_milestone_166_recent;
