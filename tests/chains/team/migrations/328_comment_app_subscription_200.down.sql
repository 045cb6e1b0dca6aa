COMMENT ON TABLE app_subscription_200 IS NULL;
