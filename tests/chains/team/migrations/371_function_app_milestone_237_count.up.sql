CREATE FUNCTION f_371_app_milestone_237_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_milestone_237 WHERE workspace_id = p_workspace $$;
