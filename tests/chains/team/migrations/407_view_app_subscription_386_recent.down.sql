DROP VIEW IF EXISTS v_407_app_subscription_386_recent;
