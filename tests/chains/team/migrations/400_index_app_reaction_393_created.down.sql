DROP INDEX IF EXISTS idx_400_app_reaction_393_created;
