DROP VIEW IF EXISTS v_33_app_label_17_recent;
