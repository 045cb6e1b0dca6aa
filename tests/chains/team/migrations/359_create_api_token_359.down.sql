DROP TABLE IF EXISTS app_api_token_359;
