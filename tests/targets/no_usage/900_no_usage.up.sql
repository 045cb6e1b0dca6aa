-- Every usage write fails: a run over it has nothing to judge.
ALTER TABLE task_usage ADD CONSTRAINT task_usage_refused CHECK (model = '');
