DROP INDEX IF EXISTS idx_421_app_api_token_365_created;
