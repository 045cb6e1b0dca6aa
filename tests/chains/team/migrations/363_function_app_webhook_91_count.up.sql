CREATE FUNCTION f_363_app_webhook_91_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_webhook_91 WHERE workspace_id = p_workspace $$;
