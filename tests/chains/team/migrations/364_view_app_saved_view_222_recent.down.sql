DROP VIEW IF EXISTS v_364_app_saved_view_222_recent;
