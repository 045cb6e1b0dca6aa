DROP INDEX IF EXISTS idx_152_app_reaction_18_created;
