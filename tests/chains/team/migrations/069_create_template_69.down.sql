DROP TABLE IF EXISTS app_template_69;
