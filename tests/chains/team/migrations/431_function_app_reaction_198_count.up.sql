CREATE FUNCTION f_431_app_reaction_198_count(p_workspace UUID) RETURNS BIGINT
LANGUAGE sql STABLE AS $$ SELECT count(*) FROM app_reaction_198 WHERE workspace_id = p_workspace $$;
