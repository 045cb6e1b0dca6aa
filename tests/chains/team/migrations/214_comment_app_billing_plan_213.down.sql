COMMENT ON TABLE app_billing_plan_213 IS NULL;
