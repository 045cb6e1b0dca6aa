DROP VIEW IF EXISTS v_22_app_snippet_14_recent;
