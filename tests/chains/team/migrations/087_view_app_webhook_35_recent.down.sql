DROP VIEW IF EXISTS v_87_app_webhook_35_recent;
