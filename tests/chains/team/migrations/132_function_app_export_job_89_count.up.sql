CREATE FUNCTION f_132_app_export_job_89_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_export_job_89 WHERE workspace_id = p_workspace $$;
