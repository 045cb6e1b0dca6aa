DROP VIEW IF EXISTS v_260_app_saved_view_64_recent;
