"""Ground truth in polars, from the history alone (invariants.md, "Ground truth").

Replays what the successful operations did — usage upserts that overwrite, deletes and the cascades they set off
(workspace → agents, runtimes, projects, issues → tasks → usage; project → issue.project_id = NULL), re-keying
of tasks and issues — as joins over intervals, never as a Python loop over rows. Times are integer microseconds
since the Unix epoch throughout, so every comparison is exact.
"""

from __future__ import annotations

import polars as pl

KEY = ["bucket_hour", "workspace_id", "runtime_id", "agent_id", "project_id", "provider", "model"]
TOKENS = ["input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens"]
COUNTS = ["task_count", "event_count"]
HOUR_US = 3_600_000_000
NEVER = 2**62
USAGE_KEY = ["task_id", "provider", "model"]


def committed(ops: pl.DataFrame, as_of: int | None = None) -> pl.DataFrame:
    """Operations that took effect, up to history index `as_of`."""
    ok = ops.filter(pl.col("outcome") == "ok")
    return ok if as_of is None else ok.filter(pl.col("i") <= as_of)


def _deaths(ops: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """id → the history index at which each entity stopped existing (its own delete or its workspace's)."""
    ws = ops.filter(pl.col("f") == "delete_workspace").group_by("id").agg(ws_died=pl.col("i").min())
    out = {"workspace": ws.rename({"ws_died": "died"})}
    for kind in ("agent", "runtime", "project", "issue"):
        own = ops.filter(pl.col("f") == f"delete_{kind}").group_by("id").agg(own=pl.col("i").min())
        out[kind] = (
            ops.filter(pl.col("f") == kind).select("id", "workspace_id")
            .join(own, on="id", how="left")
            .join(ws.rename({"id": "workspace_id"}), on="workspace_id", how="left")
            .select("id", died=pl.min_horizontal("own", "ws_died"))
            .filter(pl.col("died").is_not_null())
        )
    return out


def _intervals(ops: pl.DataFrame, owner: str, created: str, create_col: str, change: str, change_col: str) -> pl.DataFrame:
    """Each value an attribute held, with the history indexes [i, until) it held it."""
    events = pl.concat([
        ops.filter(pl.col("f") == created).select(pl.col("id").alias(owner), "i", pl.col(create_col).alias("value")),
        ops.filter(pl.col("f") == change).select(pl.col("id").alias(owner), "i", pl.col(change_col).alias("value")),
    ]).sort(owner, "i")
    return events.with_columns(until=pl.col("i").shift(-1).over(owner).fill_null(NEVER))


def _killed_through(intervals: pl.DataFrame, owner: str, deaths: pl.DataFrame) -> pl.DataFrame:
    """Owners whose attribute pointed at an entity at the moment that entity died (a cascade)."""
    return (
        intervals.join(deaths, left_on="value", right_on="id")
        .filter((pl.col("i") <= pl.col("died")) & (pl.col("died") < pl.col("until")))
        .select(owner, "died")
    )


def _last(intervals: pl.DataFrame, owner: str, name: str) -> pl.DataFrame:
    return intervals.group_by(owner).agg(pl.col("value").sort_by("i").last().alias(name))


def _usage_events(ops: pl.DataFrame) -> pl.DataFrame:
    usage = ops.filter(pl.col("f").is_in(["usage", "delete_usage", "update_no_bump"])).select(
        "i", pl.lit(0).alias("sub"), "f", "task_id",
        pl.when(pl.col("f") == "usage").then(pl.col("provider").str.to_lowercase()).otherwise("provider").alias("provider"),
        "model", "input", "output", "cache_read", "cache_write",
        pl.coalesce("created_at", "at").alias("created_at"),
    )
    moves = ops.filter((pl.col("f") == "change_usage_key") & (pl.col("r") > 0)).sort("i")
    for m in moves.iter_rows(named=True):  # re-keyed rows: rare, assumption-breaking operations only
        old = _rows(usage.filter(pl.col("i") < m["i"]))
        old = old.filter((pl.col("task_id") == m["task_id"]) & (pl.col("provider") == m["provider"])
                         & (pl.col("model") == m["model"]))
        if old.is_empty():
            continue
        row = old.row(0, named=True)
        gone = {**{c: None for c in usage.columns}, "i": m["i"], "sub": 0, "f": "delete_usage",
                "task_id": m["task_id"], "provider": m["provider"], "model": m["model"]}
        moved = {"i": m["i"], "sub": 1, "f": "usage", "input": row["input_tokens"], "output": row["output_tokens"],
                 "cache_read": row["cache_read_tokens"], "cache_write": row["cache_write_tokens"],
                 "task_id": m["new_task_id"] or m["task_id"], "provider": m["new_provider"] or m["provider"],
                 "model": m["new_model"] or m["model"], "created_at": m["new_created_at"] or row["created_at"]}
        usage = pl.concat([usage, pl.DataFrame([gone, moved], schema=usage.schema)])
    return usage


def _rows(usage: pl.DataFrame) -> pl.DataFrame:
    """Live usage rows: the events since each key's last delete; created_at from its insert, counters from the last write."""
    ordered = usage.sort(*USAGE_KEY, "i", "sub").with_columns(
        gen=(pl.col("f") == "delete_usage").cast(pl.Int64).cum_sum().over(USAGE_KEY)
    )
    current = ordered.filter(
        (pl.col("gen") == pl.col("gen").max().over(USAGE_KEY)) & (pl.col("f") != "delete_usage")
    )
    inserts = pl.col("f") == "usage"
    return (
        current.group_by(USAGE_KEY, maintain_order=True)
        .agg(
            inserted=inserts.any(),
            created_at=pl.col("created_at").filter(inserts).first(),
            input_tokens=pl.col("input").last(), output_tokens=pl.col("output").last(),
            cache_read_tokens=pl.col("cache_read").last(), cache_write_tokens=pl.col("cache_write").last(),
        )
        .filter(pl.col("inserted")).drop("inserted")
    )


def usage_rows(ops: pl.DataFrame, as_of: int | None = None) -> pl.DataFrame:
    """Every live usage row with its rollup key: what `task_usage` joined to its task, agent and issue holds."""
    ops = committed(ops, as_of)
    deaths = _deaths(ops)
    runtime = _intervals(ops, "task_id", "task", "runtime_id", "reassign_runtime", "runtime_id")
    issue = _intervals(ops, "task_id", "task", "issue_id", "link_issue", "issue_id")
    agent = _intervals(ops, "task_id", "task", "agent_id", "change_agent", "agent_id")
    own = ops.filter(pl.col("f") == "delete_task").select(pl.col("id").alias("task_id"), pl.col("i").alias("died"))
    dead = pl.concat([
        own,
        _killed_through(runtime, "task_id", deaths["runtime"]),
        _killed_through(issue, "task_id", deaths["issue"]),
        _killed_through(agent, "task_id", deaths["agent"]),
    ]).select("task_id").unique()

    project = _intervals(ops, "issue_id", "issue", "project_id", "change_issue_project", "project_id")
    unset = _killed_through(project, "issue_id", deaths["project"]).select(
        "issue_id", pl.col("died").alias("i"), pl.lit(None, pl.String).alias("value"))
    project = pl.concat([project.drop("until"), unset])

    agents = ops.filter(pl.col("f") == "agent").select(pl.col("id").alias("agent_id"), "workspace_id")
    tasks = (
        _last(runtime, "task_id", "runtime_id")
        .join(_last(agent, "task_id", "agent_id"), on="task_id")
        .join(_last(issue, "task_id", "issue_id"), on="task_id")
        .join(dead, on="task_id", how="anti")
        .join(agents, on="agent_id", how="left")
        .join(_last(project, "issue_id", "project_id"), on="issue_id", how="left")
    )
    return (
        _rows(_usage_events(ops))
        .join(tasks, on="task_id")  # usage of a dead task died with it (cascade)
        .filter(pl.col("runtime_id").is_not_null())
        .with_columns(bucket_hour=(pl.col("created_at") // HOUR_US) * HOUR_US)
    )


def hour_truth(rows: pl.DataFrame) -> pl.DataFrame:
    """Hour-grain truth: one row per rollup key, sums and counts, in key order."""
    return (
        rows.group_by(KEY)
        .agg(*[pl.col(c).sum() for c in TOKENS], task_count=pl.col("task_id").n_unique(), event_count=pl.len())
        .with_columns(pl.col(COUNTS).cast(pl.Int64))
        .sort(KEY, nulls_last=True)
    )


# ---------------------------------------------------------------- report grain

def local_date(ts: str, zone: str) -> pl.Expr:
    """The calendar date of an instant (µs) in `zone`, converted row by row (no dynamic group-by)."""
    return pl.col(ts).cast(pl.Datetime("us", "UTC")).dt.convert_time_zone(zone).dt.date()


REPORT_GROUPS = {
    "workspace_daily": ["workspace_id", "date", "provider", "model"],
    "runtime_daily": ["runtime_id", "date", "provider", "model"],
    "workspace_by_agent": ["workspace_id", "agent_id", "provider", "model"],
}


def report(frame: pl.DataFrame, kind: str, zone: str, cutoff_us: int, ts: str) -> pl.DataFrame:
    """A report's rows from `frame` (live usage rows with ts=created_at, or hourly rows with ts=bucket_hour)."""
    groups = REPORT_GROUPS[kind]
    return (
        frame.filter(pl.col(ts) >= cutoff_us)
        .with_columns(date=local_date(ts, zone), provider=pl.col("provider").str.to_lowercase())
        .group_by(groups)
        .agg(*[pl.col(c).sum() for c in TOKENS])
        .sort(groups, nulls_last=True)
    )
