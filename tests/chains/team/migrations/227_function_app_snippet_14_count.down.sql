DROP FUNCTION IF EXISTS f_227_app_snippet_14_count(UUID);
