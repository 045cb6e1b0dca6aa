DROP FUNCTION IF EXISTS f_79_app_webhook_35_count(UUID);
