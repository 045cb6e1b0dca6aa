DROP FUNCTION IF EXISTS f_77_app_template_69_count(UUID);
