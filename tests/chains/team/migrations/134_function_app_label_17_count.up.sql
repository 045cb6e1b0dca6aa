CREATE FUNCTION f_134_app_label_17_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_label_17 WHERE workspace_id = p_workspace $$;
