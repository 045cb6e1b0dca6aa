CREATE FUNCTION f_423_app_template_339_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_template_339 WHERE workspace_id = p_workspace $$;
