CREATE FUNCTION f_390_app_template_225_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_template_225 WHERE workspace_id = p_workspace $$;
