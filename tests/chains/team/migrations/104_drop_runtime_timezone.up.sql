-- 104: the runtime's timezone only served the legacy per-runtime daily rollup dropped in 103; reports now take
-- the viewer's zone at read time, so the column goes.
ALTER TABLE agent_runtime DROP COLUMN timezone;
