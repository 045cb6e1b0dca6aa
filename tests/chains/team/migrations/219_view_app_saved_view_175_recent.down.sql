DROP VIEW IF EXISTS v_219_app_saved_view_175_recent;
