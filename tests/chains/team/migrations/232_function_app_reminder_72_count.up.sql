CREATE FUNCTION f_232_app_reminder_72_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_reminder_72 WHERE workspace_id = p_workspace $$;
