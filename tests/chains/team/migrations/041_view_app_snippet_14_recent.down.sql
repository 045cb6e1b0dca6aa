DROP VIEW IF EXISTS v_41_app_snippet_14_recent;
