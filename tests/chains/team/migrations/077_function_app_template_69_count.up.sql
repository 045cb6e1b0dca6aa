CREATE FUNCTION f_77_app_template_69_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_template_69 WHERE workspace_id = p_workspace $$;
