DROP VIEW IF EXISTS v_39_app_snippet_14_recent;
