DROP VIEW IF EXISTS v_391_app_snippet_235_recent;
