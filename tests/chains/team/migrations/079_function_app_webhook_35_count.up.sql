CREATE FUNCTION f_79_app_webhook_35_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_webhook_35 WHERE workspace_id = p_workspace $$;
