CREATE FUNCTION f_10_app_export_job_2_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_export_job_2 WHERE workspace_id = p_workspace $$;
