DROP FUNCTION IF EXISTS f_310_app_template_225_count(UUID);
