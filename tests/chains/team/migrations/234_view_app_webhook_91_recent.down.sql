DROP VIEW IF EXISTS v_234_app_webhook_91_recent;
