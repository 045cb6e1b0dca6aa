-- Reverts 104: puts agent_runtime.timezone back (every runtime gets 'UTC'; the old values are not recoverable).
ALTER TABLE agent_runtime ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC';
