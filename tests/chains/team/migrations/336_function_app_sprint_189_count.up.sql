CREATE FUNCTION f_336_app_sprint_189_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_sprint_189 WHERE workspace_id = p_workspace $$;
