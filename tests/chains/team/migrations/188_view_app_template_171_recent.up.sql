CREATE VIEW v_188_app_template_171_recent AS
    SELECT id, workspace_id, created_at FROM app_template_171 WHERE created_at > '2020-01-01'::timestamptz;
