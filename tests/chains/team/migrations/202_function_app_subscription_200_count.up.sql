CREATE FUNCTION f_202_app_subscription_200_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_subscription_200 WHERE workspace_id = p_workspace $$;
