DROP TABLE IF EXISTS app_reaction_18;
