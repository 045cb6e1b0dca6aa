CREATE FUNCTION f_186_app_reminder_43_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_reminder_43 WHERE workspace_id = p_workspace $$;
