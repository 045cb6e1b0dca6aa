DROP VIEW IF EXISTS v_313_app_sprint_189_recent;
