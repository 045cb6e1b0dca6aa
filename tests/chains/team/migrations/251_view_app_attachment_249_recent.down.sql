DROP VIEW IF EXISTS v_251_app_attachment_249_recent;
