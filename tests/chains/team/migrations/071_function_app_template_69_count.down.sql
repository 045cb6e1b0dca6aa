DROP FUNCTION IF EXISTS f_71_app_template_69_count(UUID);
