DROP TABLE IF EXISTS app_subscription_266;
