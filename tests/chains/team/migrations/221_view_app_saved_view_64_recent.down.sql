DROP VIEW IF EXISTS v_221_app_saved_view_64_recent;
