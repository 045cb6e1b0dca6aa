DROP FUNCTION IF EXISTS f_427_app_billing_plan_215_count(UUID);
