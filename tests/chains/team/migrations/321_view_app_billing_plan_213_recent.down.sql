DROP VIEW IF EXISTS v_321_app_billing_plan_213_recent;
