DROP FUNCTION IF EXISTS f_93_app_snippet_14_count(UUID);
