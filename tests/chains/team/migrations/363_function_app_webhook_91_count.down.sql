DROP FUNCTION IF EXISTS f_363_app_webhook_91_count(UUID);
