CREATE FUNCTION f_315_app_attachment_190_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_attachment_190 WHERE workspace_id = p_workspace $$;
