DROP VIEW IF EXISTS v_205_app_snippet_182_recent;
