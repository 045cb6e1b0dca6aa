DROP TABLE IF EXISTS app_saved_view_175;
