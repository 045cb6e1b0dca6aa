CREATE FUNCTION f_24_app_reaction_18_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_reaction_18 WHERE workspace_id = p_workspace $$;
