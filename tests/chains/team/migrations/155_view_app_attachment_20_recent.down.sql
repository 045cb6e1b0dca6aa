DROP VIEW IF EXISTS v_155_app_attachment_20_recent;
