CREATE INDEX idx_421_app_api_token_365_created ON app_api_token_365 (created_at DESC);
