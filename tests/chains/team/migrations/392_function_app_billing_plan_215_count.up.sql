CREATE FUNCTION f_392_app_billing_plan_215_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_billing_plan_215 WHERE workspace_id = p_workspace $$;
