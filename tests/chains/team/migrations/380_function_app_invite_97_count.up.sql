CREATE FUNCTION f_380_app_invite_97_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_invite_97 WHERE workspace_id = p_workspace $$;
