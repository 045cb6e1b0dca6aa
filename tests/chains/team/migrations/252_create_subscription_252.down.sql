DROP TABLE IF EXISTS app_subscription_252;
