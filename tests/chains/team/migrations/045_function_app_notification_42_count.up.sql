CREATE FUNCTION f_45_app_notification_42_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_notification_42 WHERE workspace_id = p_workspace $$;
