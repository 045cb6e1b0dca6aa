CREATE VIEW v_407_app_subscription_386_recent AS
    SELECT id, workspace_id, created_at FROM app_subscription_386 WHERE created_at > '2020-01-01'::timestamptz;
