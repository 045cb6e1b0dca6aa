"""What the bench reads from the database under test, for a check: the rollup's rows, the raw usage rows, the
in-database second opinion (EXCEPT ALL against the rollup's defining query) and the read side's reports.

Each is read as a polars frame in the shapes the judge computes from the history (`bench.workload.columns`), ids
and names categorical so that the frames join.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl
import psycopg

from bench.workload.columns import KEYLIKE, REPORT_GROUPS, TOKENS, VALUES, column_dtype, measure_dtype
from rollup.measures import DEFAULT_MEASURES, Column, Measure, numeric_scale
from rollup.migrations import HOURLY, Rollup
from rollup.readside import ReadSide, read_report
from rollup.reports import plan_report
from rollup.units import HOUR

_US = "(extract(epoch FROM {c}) * 1000000)::bigint"
KEY_SQL = (f"{_US.format(c='bucket_hour')} AS bucket_hour, workspace_id::text, runtime_id::text, agent_id::text,"
           " project_id::text, provider, model")
KEY_SCHEMA = {"bucket_hour": pl.Int64, "workspace_id": pl.String, "runtime_id": pl.String, "agent_id": pl.String,
              "project_id": pl.String, "provider": pl.String, "model": pl.String}
ROLLUP_SCHEMA = {**KEY_SCHEMA, **{c: pl.Int64 for c in VALUES}}


def rollup_schema(rollup: Rollup = HOURLY, columns: tuple[Column, ...] = ()) -> dict:
    return {**KEY_SCHEMA, **{m.name: measure_dtype(m, columns) for m in rollup.measures}}


def _sql_type(m: Measure, columns: tuple[Column, ...], exact: bool) -> str:
    scale = numeric_scale(m, columns)
    return "bigint" if scale is None else f"numeric(38, {scale})" if exact else "numeric"


def _aggregate(m: Measure, columns: tuple[Column, ...]) -> str:
    """A measure as SQL over the defining query's rows (`u`), its condition verbatim: the names it may use are u's."""
    arg = "*" if m.column == "*" else f"DISTINCT u.{m.column}" if m.agg == "count_distinct" else f"u.{m.column}"
    call = f"{'sum' if m.agg == 'sum' else 'count'}({arg})" + (f" FILTER (WHERE {m.where})" if m.where else "")
    return f"coalesce({call}, 0)::{_sql_type(m, columns, False)}" if m.agg == "sum" else f"{call}::bigint"


def defining_sql(measures: tuple[Measure, ...] = DEFAULT_MEASURES, columns: tuple[Column, ...] = ()) -> str:
    """The hourly rollup's defining query over the raw tables, for the in-database second opinion: every measure
    over the live usage rows of tasks with a runtime, keyed as the rollup is. The rows are a subquery of the usage
    row's own columns and its key's, so a measure's condition names them unqualified, as the oracle does."""
    extra = "".join(f", tu.{c.name}" for c in columns)
    return f"""
SELECT date_trunc('hour', u.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket_hour, u.workspace_id,
       u.runtime_id, u.agent_id, u.project_id, u.provider, u.model,
       {', '.join(_aggregate(m, columns) for m in measures)}
  FROM (SELECT tu.task_id, tu.provider, tu.model, tu.created_at, tu.input_tokens, tu.output_tokens,
               tu.cache_read_tokens, tu.cache_write_tokens{extra}, a.workspace_id, t.runtime_id, t.agent_id,
               i.project_id
          FROM task_usage tu
          JOIN agent_task_queue t ON t.id = tu.task_id
          JOIN agent a ON a.id = t.agent_id
          LEFT JOIN issue i ON i.id = t.issue_id
         WHERE t.runtime_id IS NOT NULL) u
 GROUP BY 1, 2, 3, 4, 5, 6, 7
"""


def rollup_sql(rollup: Rollup = HOURLY, columns: tuple[Column, ...] = ()) -> str:
    """The hourly table as the EXCEPT ALL compares it with its defining query (a NULL measure counts as 0)."""
    values = ", ".join(f"coalesce({m.name}, 0)::{_sql_type(m, columns, False)}" for m in rollup.measures)
    return (f"SELECT bucket_hour, workspace_id, runtime_id, agent_id, project_id, provider, model, {values}"
            f" FROM {rollup.table}")


def raw_rows_sql(columns: tuple[Column, ...] = ()) -> str:
    extra = "".join(f", tu.{c.name}::{c.sql_type} AS {c.name}" for c in columns)
    return f"""
SELECT tu.task_id::text, tu.provider, tu.model, {_US.format(c='tu.created_at')} AS created_at,
       tu.input_tokens, tu.output_tokens, tu.cache_read_tokens, tu.cache_write_tokens,
       t.runtime_id::text, t.agent_id::text, t.issue_id::text, a.workspace_id::text, i.project_id::text{extra}
  FROM task_usage tu
  JOIN agent_task_queue t ON t.id = tu.task_id
  JOIN agent a ON a.id = t.agent_id
  LEFT JOIN issue i ON i.id = t.issue_id
"""


def raw_schema(columns: tuple[Column, ...] = ()) -> dict:
    return {"task_id": pl.String, "provider": pl.String, "model": pl.String, "created_at": pl.Int64,
            **{c: pl.Int64 for c in TOKENS}, "runtime_id": pl.String, "agent_id": pl.String,
            "issue_id": pl.String, "workspace_id": pl.String, "project_id": pl.String,
            **{c.name: column_dtype(c) for c in columns}}


DEFINING_SQL = defining_sql()
ROLLUP_SQL = rollup_sql()
RAW_ROWS_SQL = raw_rows_sql()
RAW_SCHEMA = raw_schema()


def _frame(conn: psycopg.Connection, query: str, schema: dict) -> pl.DataFrame:
    """A query's rows, with ids and names categorical like the oracle's (so frames join)."""
    frame = pl.DataFrame(conn.execute(query).fetchall(), schema=schema, orient="row")
    return frame.with_columns(pl.col(c).cast(pl.Categorical) for c in frame.columns if c in KEYLIKE)


def rollup_snapshot(conn: psycopg.Connection, rollup: Rollup = HOURLY,
                    columns: tuple[Column, ...] = ()) -> pl.DataFrame:
    """A rollup table's rows; its bucket column, whatever its name and grain, read as `bucket_hour` (µs), and a
    column per measure (a numeric at its scale)."""
    key = KEY_SQL.replace(_US.format(c="bucket_hour"), _US.format(c=rollup.bucket), 1)
    values = ", ".join(m.name if m in DEFAULT_MEASURES else f"{m.name}::{_sql_type(m, columns, True)} AS {m.name}"
                       for m in rollup.measures)
    return _frame(conn, f"SELECT {key}, {values} FROM {rollup.table}", rollup_schema(rollup, columns))


def raw_rows(conn: psycopg.Connection, columns: tuple[Column, ...] = ()) -> pl.DataFrame:
    """Live usage rows as the raw tables hold them (the same shape as `oracle.usage_rows`)."""
    return _frame(conn, raw_rows_sql(columns), raw_schema(columns)).with_columns(
        bucket_hour=(pl.col("created_at") // HOUR) * HOUR)


def except_all(conn: psycopg.Connection, rollup: Rollup = HOURLY, columns: tuple[Column, ...] = ()) -> tuple[int, int]:
    """(rollup rows not in the defining query, defining-query rows not in the rollup), counted with multiplicity."""
    return conn.execute(
        f"WITH r AS ({rollup_sql(rollup, columns)}), d AS ({defining_sql(rollup.measures, columns)})"
        " SELECT (SELECT count(*) FROM (SELECT * FROM r EXCEPT ALL SELECT * FROM d) x),"
        "        (SELECT count(*) FROM (SELECT * FROM d EXCEPT ALL SELECT * FROM r) y)"
    ).fetchone()


def check_declared(conn: psycopg.Connection, rollups: list[Rollup], columns: tuple[Column, ...]) -> list[str]:
    """What a target declares in rollups.toml that its schema lacks: a raw column task_usage does not have, a
    measure its table does not have, a condition PostgreSQL cannot evaluate. Empty when all is there."""
    have = set(conn.execute("SELECT table_name::text, column_name::text FROM information_schema.columns"
                            " WHERE table_schema = current_schema()").fetchall())
    problems = [f"task_usage has no column {c.name}" for c in columns if ("task_usage", c.name) not in have]
    problems += [f"{r.table} has no column {m.name} for its measure" for r in rollups for m in r.measures
                 if (r.table, m.name) not in have]
    if problems:
        return problems
    for r in rollups:
        for m in r.measures:
            if m.where:
                try:
                    with conn.transaction():  # planned, not run: a bad name or type fails here
                        conn.execute(f"SELECT 1 FROM ({defining_sql((m,), columns)}) x LIMIT 0")
                except psycopg.Error as exc:
                    problems.append(f"{r.table}.{m.name}: PostgreSQL cannot evaluate where = {m.where!r}"
                                    f" ({exc.diag.message_primary})")
    return problems


def sql_report(conn: psycopg.Connection, kind: str, zone: str, window: tuple[int, datetime], scopes: list[str],
               side: ReadSide | None = None, measures: dict[str, pl.DataType] | None = None,
               ) -> tuple[pl.DataFrame, tuple[str, ...]]:
    """The read side's own report over `window` (its days, ending at its instant), through its query (default:
    faithful's), for every scope (workspace or runtime), and the measures it carries beside the token sums: those its mapping names, and any further result
    column named as one of `measures` (the target's measures a report can add up, with their types)."""
    days, now = window
    q = plan_report(kind, now, tz_param=zone, days=days)
    groups = REPORT_GROUPS[kind]
    measures = measures or {}
    named = list((side.report(kind).measures if side else ()))
    records = []
    for scope in scopes:
        columns, rows = read_report(conn, q, scope, side=side)
        named += [c for c in columns if c in measures and c not in named and c not in TOKENS]
        for row in rows:
            records.append({groups[0]: scope, **{k: (str(v) if k == "agent_id" else v) for k, v in row.items()}})
    carried = tuple(m for m in named if m in measures)
    schema = {g: (pl.Date if g == "date" else pl.String) for g in groups} | {c: pl.Int64 for c in TOKENS} \
        | {m: measures[m] for m in carried}
    return pl.DataFrame([{k: r.get(k) for k in schema} for r in records], schema=schema, orient="row"), carried
