DROP VIEW IF EXISTS v_62_app_webhook_35_recent;
