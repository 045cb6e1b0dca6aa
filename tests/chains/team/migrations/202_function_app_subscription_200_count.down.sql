DROP FUNCTION IF EXISTS f_202_app_subscription_200_count(UUID);
