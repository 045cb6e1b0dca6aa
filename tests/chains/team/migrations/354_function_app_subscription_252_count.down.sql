DROP FUNCTION IF EXISTS f_354_app_subscription_252_count(UUID);
