CREATE FUNCTION f_428_app_import_job_345_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_import_job_345 WHERE workspace_id = p_workspace $$;
