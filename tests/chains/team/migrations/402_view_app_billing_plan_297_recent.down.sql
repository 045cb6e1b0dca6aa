DROP VIEW IF EXISTS v_402_app_billing_plan_297_recent;
