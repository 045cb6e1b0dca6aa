DROP VIEW IF EXISTS v_125_app_saved_view_66_recent;
