CREATE FUNCTION f_220_app_milestone_166_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_milestone_166 WHERE workspace_id = p_workspace $$;
