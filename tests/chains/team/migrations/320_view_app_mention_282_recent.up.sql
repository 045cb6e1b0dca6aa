CREATE VIEW v_320_app_mention_282_recent AS
    SELECT id, workspace_id, created_at FROM app_mention_282 WHERE created_at > '2020-01-01'::timestamptz;
