"""The names every role shares: the rollup's key and measures, the raw usage row's key, the reports' groups.

They are facts of the schema under test (pipeline.md §1, §6), not of any one role: the drive reads these
columns from the database, the judge computes them from the history, and both must name them alike. So are the
types a target's declared measures and optional raw columns are held in (rollup/measures.py): exact, both sides.
"""

from __future__ import annotations

import polars as pl

from rollup.measures import Column, Measure, numeric_scale

KEY = ["bucket_hour", "workspace_id", "runtime_id", "agent_id", "project_id", "provider", "model"]
TOKENS = ["input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens"]
COUNTS = ["task_count", "event_count"]
VALUES = TOKENS + COUNTS  # the measures every rollup row carries (rollup.measures.DEFAULT_MEASURES)
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


def column_dtype(c: Column) -> pl.DataType:
    """A declared raw column's values, exactly: a numeric as a decimal at its scale."""
    return pl.Int64 if c.type == "bigint" else pl.Decimal(38, c.scale)


def measure_dtype(m: Measure, columns: tuple[Column, ...] = ()) -> pl.DataType:
    """A sum over a numeric column as an exact decimal at its scale; every other measure an integer."""
    scale = numeric_scale(m, columns)
    return pl.Int64 if scale is None else pl.Decimal(38, scale)
