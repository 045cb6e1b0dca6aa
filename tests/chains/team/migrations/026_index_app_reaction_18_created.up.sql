CREATE INDEX idx_26_app_reaction_18_created ON app_reaction_18 (created_at DESC);
