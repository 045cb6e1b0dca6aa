DROP FUNCTION IF EXISTS f_423_app_template_339_count(UUID);
