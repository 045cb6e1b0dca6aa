"""What the bench reads from the database under test, for a check: the rollup's rows, the raw usage rows, the
in-database second opinion (EXCEPT ALL against the rollup's defining query) and the read side's reports.

Each is read as a polars frame in the shapes the judge computes from the history (`bench.workload.columns`), ids
and names categorical so that the frames join.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl
import psycopg

from bench.workload.columns import HOUR_US, KEYLIKE, REPORT_GROUPS, TOKENS, VALUES
from rollup.migrations import HOURLY, Rollup
from rollup.reports import plan_report, run_report

_US = "(extract(epoch FROM {c}) * 1000000)::bigint"
KEY_SQL = (f"{_US.format(c='bucket_hour')} AS bucket_hour, workspace_id::text, runtime_id::text, agent_id::text,"
           " project_id::text, provider, model")
KEY_SCHEMA = {"bucket_hour": pl.Int64, "workspace_id": pl.String, "runtime_id": pl.String, "agent_id": pl.String,
              "project_id": pl.String, "provider": pl.String, "model": pl.String}
ROLLUP_SCHEMA = {**KEY_SCHEMA, **{c: pl.Int64 for c in VALUES}}

# The rollup's defining query over the raw tables, for the in-database second opinion.
DEFINING_SQL = """
SELECT date_trunc('hour', tu.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket_hour, a.workspace_id,
       t.runtime_id, t.agent_id, i.project_id, tu.provider, tu.model,
       sum(tu.input_tokens)::bigint, sum(tu.output_tokens)::bigint, sum(tu.cache_read_tokens)::bigint,
       sum(tu.cache_write_tokens)::bigint, count(DISTINCT tu.task_id)::bigint, count(*)::bigint
  FROM task_usage tu
  JOIN agent_task_queue t ON t.id = tu.task_id
  JOIN agent a ON a.id = t.agent_id
  LEFT JOIN issue i ON i.id = t.issue_id
 WHERE t.runtime_id IS NOT NULL
 GROUP BY 1, 2, 3, 4, 5, 6, 7
"""
ROLLUP_SQL = (f"SELECT bucket_hour, workspace_id, runtime_id, agent_id, project_id, provider, model, "
              f"{', '.join(VALUES)} FROM task_usage_hourly")
RAW_ROWS_SQL = f"""
SELECT tu.task_id::text, tu.provider, tu.model, {_US.format(c='tu.created_at')} AS created_at,
       tu.input_tokens, tu.output_tokens, tu.cache_read_tokens, tu.cache_write_tokens,
       t.runtime_id::text, t.agent_id::text, t.issue_id::text, a.workspace_id::text, i.project_id::text
  FROM task_usage tu
  JOIN agent_task_queue t ON t.id = tu.task_id
  JOIN agent a ON a.id = t.agent_id
  LEFT JOIN issue i ON i.id = t.issue_id
"""
RAW_SCHEMA = {"task_id": pl.String, "provider": pl.String, "model": pl.String, "created_at": pl.Int64,
              **{c: pl.Int64 for c in TOKENS}, "runtime_id": pl.String, "agent_id": pl.String,
              "issue_id": pl.String, "workspace_id": pl.String, "project_id": pl.String}


def _frame(conn: psycopg.Connection, query: str, schema: dict) -> pl.DataFrame:
    """A query's rows, with ids and names categorical like the oracle's (so frames join)."""
    frame = pl.DataFrame(conn.execute(query).fetchall(), schema=schema, orient="row")
    return frame.with_columns(pl.col(c).cast(pl.Categorical) for c in frame.columns if c in KEYLIKE)


def rollup_snapshot(conn: psycopg.Connection, rollup: Rollup = HOURLY) -> pl.DataFrame:
    """A rollup table's rows; its bucket column, whatever its name and grain, read as `bucket_hour` (µs)."""
    key = KEY_SQL.replace(_US.format(c="bucket_hour"), _US.format(c=rollup.bucket), 1)
    return _frame(conn, f"SELECT {key}, {', '.join(VALUES)} FROM {rollup.table}", ROLLUP_SCHEMA)


def raw_rows(conn: psycopg.Connection) -> pl.DataFrame:
    """Live usage rows as the raw tables hold them (the same shape as `oracle.usage_rows`)."""
    return _frame(conn, RAW_ROWS_SQL, RAW_SCHEMA).with_columns(bucket_hour=(pl.col("created_at") // HOUR_US) * HOUR_US)


def except_all(conn: psycopg.Connection) -> tuple[int, int]:
    """(rollup rows not in the defining query, defining-query rows not in the rollup), counted with multiplicity."""
    return conn.execute(
        f"WITH r AS ({ROLLUP_SQL}), d AS ({DEFINING_SQL})"
        " SELECT (SELECT count(*) FROM (SELECT * FROM r EXCEPT ALL SELECT * FROM d) x),"
        "        (SELECT count(*) FROM (SELECT * FROM d EXCEPT ALL SELECT * FROM r) y)"
    ).fetchone()



def sql_report(conn: psycopg.Connection, kind: str, zone: str, days: int, now: datetime, scopes: list[str],
               read_side: str = "faithful") -> pl.DataFrame:
    """The read side's own report, through its SQL, for every scope (workspace or runtime)."""
    q = plan_report(kind, now, tz_param=zone, days=days)
    groups = REPORT_GROUPS[kind]
    records = []
    for scope in scopes:
        for row in run_report(conn, q, scope, read_side=read_side):
            records.append({groups[0]: scope, **{k: (str(v) if k == "agent_id" else v) for k, v in row.items()}})
    schema = {g: (pl.Date if g == "date" else pl.String) for g in groups} | {c: pl.Int64 for c in TOKENS}
    return pl.DataFrame([{k: r[k] for k in schema} for r in records], schema=schema, orient="row")
