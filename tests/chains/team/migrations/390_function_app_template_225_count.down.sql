DROP FUNCTION IF EXISTS f_390_app_template_225_count(UUID);
