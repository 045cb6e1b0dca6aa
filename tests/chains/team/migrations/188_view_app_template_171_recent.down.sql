DROP VIEW IF EXISTS v_188_app_template_171_recent;
