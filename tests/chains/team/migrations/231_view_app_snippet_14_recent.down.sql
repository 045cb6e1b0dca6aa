DROP VIEW IF EXISTS v_231_app_snippet_14_recent;
