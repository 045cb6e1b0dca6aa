CREATE FUNCTION f_137_app_milestone_127_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_milestone_127 WHERE workspace_id = p_workspace $$;
