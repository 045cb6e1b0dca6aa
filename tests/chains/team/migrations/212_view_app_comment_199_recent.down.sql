DROP VIEW IF EXISTS v_212_app_comment_199_recent;
