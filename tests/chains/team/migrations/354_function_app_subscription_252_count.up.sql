CREATE FUNCTION f_354_app_subscription_252_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_subscription_252 WHERE workspace_id = p_workspace $$;
