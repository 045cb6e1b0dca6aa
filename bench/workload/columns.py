"""The names every role shares: the rollup's key and measures, the raw usage row's key, the reports' groups.

They are facts of the schema under test (pipeline.md §1, §6), not of any one role: the drive reads these
columns from the database, the judge computes them from the history, and both must name them alike.
"""

from __future__ import annotations

KEY = ["bucket_hour", "workspace_id", "runtime_id", "agent_id", "project_id", "provider", "model"]
TOKENS = ["input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens"]
COUNTS = ["task_count", "event_count"]
VALUES = TOKENS + COUNTS  # every measure a rollup row carries
HOUR_US = 3_600_000_000
USAGE_KEY = ["task_id", "provider", "model"]
# Ids and names that key joins and groups: categorical (a global dictionary), so ten million rows are grouped by
# integers rather than 36-character strings.
KEYLIKE = frozenset({"id", "task_id", "new_task_id", "workspace_id", "runtime_id", "agent_id", "issue_id",
                     "project_id", "provider", "model", "new_provider", "new_model"})
REPORT_GROUPS = {
    "workspace_daily": ["workspace_id", "date", "provider", "model"],
    "runtime_daily": ["runtime_id", "date", "provider", "model"],
    "workspace_by_agent": ["workspace_id", "agent_id", "provider", "model"],
}
