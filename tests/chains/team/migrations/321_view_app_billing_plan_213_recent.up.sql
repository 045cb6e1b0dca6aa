CREATE VIEW v_321_app_billing_plan_213_recent AS
    SELECT id, workspace_id, created_at FROM app_billing_plan_213 WHERE created_at > '2020-01-01'::timestamptz;
