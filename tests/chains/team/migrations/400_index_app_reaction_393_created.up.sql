CREATE INDEX idx_400_app_reaction_393_created ON app_reaction_393 (created_at DESC);
