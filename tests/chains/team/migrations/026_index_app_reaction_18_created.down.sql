DROP INDEX IF EXISTS idx_26_app_reaction_18_created;
