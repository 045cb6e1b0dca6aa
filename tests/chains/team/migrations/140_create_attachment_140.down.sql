DROP TABLE IF EXISTS app_attachment_140;
