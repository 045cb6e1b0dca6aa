CREATE VIEW v_402_app_billing_plan_297_recent AS
    SELECT id, workspace_id, created_at FROM app_billing_plan_297 WHERE created_at > '2020-01-01'::timestamptz;
