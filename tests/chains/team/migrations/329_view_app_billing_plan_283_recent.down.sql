DROP VIEW IF EXISTS v_329_app_billing_plan_283_recent;
