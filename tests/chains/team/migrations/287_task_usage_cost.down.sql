ALTER TABLE task_usage_hourly
    DROP COLUMN cost_usd_ticks, DROP COLUMN uncosted_input_tokens, DROP COLUMN uncosted_output_tokens,
    DROP COLUMN uncosted_cache_read_tokens, DROP COLUMN uncosted_cache_write_tokens;
ALTER TABLE task_usage DROP COLUMN cost_usd_ticks;
