DROP VIEW IF EXISTS v_123_app_saved_view_66_recent;
