DROP FUNCTION IF EXISTS f_431_app_reaction_198_count(UUID);
