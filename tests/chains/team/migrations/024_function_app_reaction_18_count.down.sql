DROP FUNCTION IF EXISTS f_24_app_reaction_18_count(UUID);
