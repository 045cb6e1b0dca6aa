CREATE FUNCTION f_352_app_comment_302_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_comment_302 WHERE workspace_id = p_workspace $$;
