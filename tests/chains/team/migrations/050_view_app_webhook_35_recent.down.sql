DROP VIEW IF EXISTS v_50_app_webhook_35_recent;
