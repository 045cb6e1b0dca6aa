DROP VIEW IF EXISTS v_382_app_saved_view_66_recent;
