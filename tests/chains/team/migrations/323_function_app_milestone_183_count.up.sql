CREATE FUNCTION f_323_app_milestone_183_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_milestone_183 WHERE workspace_id = p_workspace $$;
