CREATE FUNCTION f_85_app_audit_event_74_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_audit_event_74 WHERE workspace_id = p_workspace $$;
