DROP VIEW IF EXISTS v_119_app_attachment_20_recent;
