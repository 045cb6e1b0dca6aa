DROP TABLE IF EXISTS app_billing_plan_215;
