-- Performance regression (capacity gate): the index the window finds changed rows by is gone, so every tick
-- reads the whole of task_usage to find the rows of its 5 minutes.
DROP INDEX idx_task_usage_updated_at;
