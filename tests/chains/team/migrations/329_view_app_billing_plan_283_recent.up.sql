CREATE VIEW v_329_app_billing_plan_283_recent AS
    SELECT id, workspace_id, created_at FROM app_billing_plan_283 WHERE created_at > '2020-01-01'::timestamptz;
