DROP FUNCTION IF EXISTS f_392_app_billing_plan_215_count(UUID);
