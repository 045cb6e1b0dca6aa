-- A constraint stricter than the data the application writes: usage of one model is refused.
ALTER TABLE task_usage ADD CONSTRAINT task_usage_no_gpt5_mini CHECK (model <> 'gpt-5-mini');
