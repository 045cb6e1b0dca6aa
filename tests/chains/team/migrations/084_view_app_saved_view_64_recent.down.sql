DROP VIEW IF EXISTS v_84_app_saved_view_64_recent;
