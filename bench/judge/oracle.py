"""Ground truth in polars, from the history alone (invariants.md, "Ground truth").

Replays what the successful operations did — usage upserts that overwrite, deletes and the cascades they set off
(workspace → agents, runtimes, projects, issues → tasks → usage; project → issue.project_id = NULL), re-keying
of tasks and issues — as joins over intervals, never as a Python loop over rows. Times are integer microseconds
since the Unix epoch throughout, so every comparison is exact. A target's optional raw usage columns ride along
with the counters (a numeric as an exact decimal), and every measure a rollup table declares is a polars
expression over the live rows (rollup/measures.py).
"""

from __future__ import annotations

import polars as pl

from bench.workload.columns import KEY, KEYLIKE, REPORT_GROUPS, TOKENS, USAGE_KEY, column_dtype
from bench.workload.kinds import KINDS, deleting, repointing
from bench.workload.ops import CATALOG
from rollup.measures import DEFAULT_MEASURES, Column, Measure
from rollup.units import HOUR

NEVER = 2**62
SAME_AS = {name: k.same_as for name, k in KINDS.items() if k.same_as}
INSERT, OVERWRITE = 0, 1  # writes to a usage row: the upsert, an update without a bump


def committed(ops: pl.DataFrame | pl.LazyFrame, columns: tuple[Column, ...] = ()) -> dict[str, pl.DataFrame]:
    """The operations that took effect, split by kind, each with only its own fields: a history is wide and
    sparse, and ten million usage rows must not drag thirty empty columns along. (A check's view of the history
    as it then stood is `history.as_seen`.) Usage reports also carry the optional `columns`, typed."""
    ok = ops.lazy().filter(pl.col("outcome") == "ok")
    have = ok.collect_schema().names() if columns else []
    extra = [(pl.col(c.name) if c.name in have else pl.lit(None)).cast(column_dtype(c)).alias(c.name) for c in columns]
    if SAME_AS:  # kinds that are special cases of others are modelled as those (bench/workload/kinds.py)
        ok = ok.with_columns(pl.col("f").replace(SAME_AS))
    kinds = [k for k in CATALOG if k not in SAME_AS]
    frames = pl.collect_all([
        ok.filter(pl.col("f") == k).select(
            "i", "at", "start", "r", (pl.col("i") * 2).alias("ord"),
            *[pl.col(c).cast(pl.Categorical) if c in KEYLIKE else pl.col(c) for c in CATALOG[k]],
            *(extra if k == "usage" else []))
        for k in kinds
    ])
    return dict(zip(kinds, frames))


def _deleted(ops: dict[str, pl.DataFrame], entity: str) -> pl.DataFrame:
    """Deletes of `entity` by id, by every kind that declares one (bench/workload/kinds.py)."""
    return pl.concat([ops[k].select("id", "i") for k in deleting(entity)])


def _deaths(ops: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """id → the history index at which each entity stopped existing (its own delete or its workspace's)."""
    ws = _deleted(ops, "workspace").group_by("id").agg(ws_died=pl.col("i").min())
    out = {"workspace": ws.rename({"ws_died": "died"})}
    for kind in ("agent", "runtime", "project", "issue"):
        own = _deleted(ops, kind).group_by("id").agg(own=pl.col("i").min())
        out[kind] = (
            ops[kind].select("id", "workspace_id")
            .join(own, on="id", how="left")
            .join(ws.rename({"id": "workspace_id"}), on="workspace_id", how="left")
            .select("id", died=pl.min_horizontal("own", "ws_died"))
            .filter(pl.col("died").is_not_null())
        )
    return out


def _repoints(ops: dict[str, pl.DataFrame], entity: str, attribute: str) -> pl.DataFrame:
    """Every change of `entity`'s `attribute` (id, i, the new value), by the kinds that declare one."""
    return pl.concat([ops[k].select("id", "i", attribute) for k in repointing(entity, attribute)])


def _intervals(created: pl.DataFrame, attribute: str, changed: pl.DataFrame, owner: str) -> pl.DataFrame:
    """Each value an attribute held, with the history indexes [i, until) it held it. Most owners never change:
    only those that did are sorted."""
    first = created.select(pl.col("id").alias(owner), "i", pl.col(attribute).alias("value"))
    moves = changed.select(pl.col("id").alias(owner), "i", pl.col(attribute).alias("value"))
    if moves.is_empty():
        return first.with_columns(until=pl.lit(NEVER, pl.Int64))
    moved = moves.select(owner).unique()
    stable = first.join(moved, on=owner, how="anti").with_columns(until=pl.lit(NEVER, pl.Int64))
    changing = pl.concat([first.join(moved, on=owner, how="semi"), moves]).sort(owner, "i")
    changing = changing.with_columns(until=pl.col("i").shift(-1).over(owner).fill_null(NEVER))
    return pl.concat([stable, changing])


def _killed_through(intervals: pl.DataFrame, owner: str, deaths: pl.DataFrame) -> pl.DataFrame:
    """Owners whose attribute pointed at an entity at the moment that entity died (a cascade)."""
    return (
        intervals.join(deaths, left_on="value", right_on="id")
        .filter((pl.col("i") <= pl.col("died")) & (pl.col("died") < pl.col("until")))
        .select(owner, "died")
    )


def _last(intervals: pl.DataFrame, owner: str, name: str) -> pl.DataFrame:
    """The value each owner holds now: the interval that never ended."""
    return intervals.filter(pl.col("until") == NEVER).select(owner, pl.col("value").alias(name))


def _usage_events(ops: dict[str, pl.DataFrame], columns: tuple[Column, ...] = ()) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Writes to usage rows and deletes of them, apart, ordered by `ord` (a re-keyed row leaves its old key
    just before it enters its new one). An update without a bump leaves the optional columns as they were."""
    cols = ["task_id", "provider", "model", "input", "output", "cache_read", "cache_write"]
    extra = [c.name for c in columns]
    writes = pl.concat([
        ops["usage"].select("ord", pl.lit(INSERT, pl.Int8).alias("f"), *cols[:1],
                            pl.col("provider").cast(pl.String).str.to_lowercase().cast(pl.Categorical),
                            *cols[2:], pl.coalesce("created_at", "start").alias("created_at"), *extra),
        ops["update_no_bump"].filter(pl.col("r") > 0).select(
            "ord", pl.lit(OVERWRITE, pl.Int8).alias("f"), *cols, pl.lit(None, pl.Int64).alias("created_at"),
            *[pl.lit(None, column_dtype(c)).alias(c.name) for c in columns]),
    ], how="vertical_relaxed")
    deletes = ops["delete_usage"].select("ord", *USAGE_KEY)
    for m in ops["change_usage_key"].filter(pl.col("r") > 0).sort("i").iter_rows(named=True):
        # Re-keyed rows come only from assumption-breaking scenarios: few, so one at a time is fine.
        before = pl.col("ord") < m["ord"]
        old = _rows(writes.filter(before), deletes.filter(before), extra).filter(
            (pl.col("task_id") == m["task_id"]) & (pl.col("provider") == m["provider"]) & (pl.col("model") == m["model"]))
        if old.is_empty():
            continue
        row = old.row(0, named=True)
        deletes = pl.concat([deletes, pl.DataFrame(
            [{"ord": m["ord"], "task_id": m["task_id"], "provider": m["provider"], "model": m["model"]}],
            schema=deletes.schema)])
        moved = {"ord": m["ord"] + 1, "f": INSERT, "input": row["input_tokens"], "output": row["output_tokens"],
                 "cache_read": row["cache_read_tokens"], "cache_write": row["cache_write_tokens"],
                 "task_id": m["new_task_id"] or m["task_id"], "provider": m["new_provider"] or m["provider"],
                 "model": m["new_model"] or m["model"], "created_at": m["new_created_at"] or row["created_at"],
                 **{c: row[c] for c in extra}}
        writes = pl.concat([writes, pl.DataFrame([moved], schema=writes.schema)])
    return writes, deletes


def _latest(writes: pl.DataFrame, extra: list[str] = ()) -> pl.DataFrame:
    """One row per usage key: created_at from its first write (an insert: an update only lands on an existing
    row), counters from its last. Grouped by one integer rather than three columns — a fraction of the memory
    over ten million rows — made of the task's dictionary code and a 32-bit hash of (provider, model), checked
    to be distinct over the few pairs present."""
    if not writes.get_column("ord").is_sorted():
        writes = writes.sort("ord")  # within a group, rows keep the frame's order
    pair = (pl.struct("provider", "model").hash(7) % (1 << 32)).cast(pl.UInt64)
    writes = writes.with_columns(pair=pair)
    pairs = writes.select("provider", "model", "pair").unique()
    if pairs.get_column("pair").n_unique() != pairs.height:
        raise RuntimeError("hash collision between (provider, model) pairs; cannot group usage rows exactly")
    row = pl.col("task_id").to_physical().cast(pl.UInt64) * (1 << 32) + pl.col("pair")
    return writes.group_by(row.alias("row")).agg(
        pl.col("task_id", "provider", "model", "created_at").first(),
        input_tokens=pl.col("input").last(), output_tokens=pl.col("output").last(),
        cache_read_tokens=pl.col("cache_read").last(), cache_write_tokens=pl.col("cache_write").last(),
        **{c: pl.col(c).filter(pl.col("f") == INSERT).last() for c in extra},  # an update without a bump keeps them
    ).drop("row")


def _rows(writes: pl.DataFrame, deletes: pl.DataFrame, extra: list[str] = ()) -> pl.DataFrame:
    """Live usage rows. Only keys that were ever deleted need their history cut at the last delete; they are
    few, so the bulk is grouped as is and those keys are redone apart."""
    if deletes.is_empty():
        return _latest(writes, extra)
    gone = deletes.group_by(USAGE_KEY).agg(gone=pl.col("ord").max())
    redo = writes.join(gone, on=USAGE_KEY, how="semi")
    redo = redo.join(gone, on=USAGE_KEY, maintain_order="left").filter(pl.col("ord") > pl.col("gone")).drop("gone")
    return pl.concat([_latest(writes, extra).join(gone, on=USAGE_KEY, how="anti"), _latest(redo, extra)])


def usage_rows(history: pl.DataFrame | pl.LazyFrame, columns: tuple[Column, ...] = ()) -> pl.DataFrame:
    """Every live usage row with its rollup key: what `task_usage` joined to its task, agent and issue holds (and
    the target's optional raw `columns`)."""
    ops = committed(history, columns)
    rows = _rows(*_usage_events(ops, columns), [c.name for c in columns])
    del ops["usage"]  # the biggest frame: let it go before the joins below
    deaths = _deaths(ops)
    task = ops["task"]
    runtime, issue, agent = (_intervals(task, a, _repoints(ops, "task", a), "task_id")
                             for a in ("runtime_id", "issue_id", "agent_id"))
    dead = pl.concat([
        _deleted(ops, "task").select(pl.col("id").alias("task_id"), pl.col("i").alias("died")),
        _killed_through(runtime, "task_id", deaths["runtime"]),
        _killed_through(issue, "task_id", deaths["issue"]),
        _killed_through(agent, "task_id", deaths["agent"]),
    ]).select("task_id").unique()

    changes = _repoints(ops, "issue", "project_id")
    project = _intervals(ops["issue"], "project_id", changes, "issue_id")
    unset = _killed_through(project, "issue_id", deaths["project"])
    if not unset.is_empty():  # ON DELETE SET NULL: deleting a project updates its issues at that moment
        changes = pl.concat([changes, unset.select(pl.col("issue_id").alias("id"), pl.col("died").alias("i"),
                                                   pl.lit(None, pl.Categorical).alias("project_id"))])
        project = _intervals(ops["issue"], "project_id", changes, "issue_id")

    agents = ops["agent"].select(pl.col("id").alias("agent_id"), "workspace_id")
    tasks = (
        _last(runtime, "task_id", "runtime_id")
        .join(_last(agent, "task_id", "agent_id"), on="task_id")
        .join(_last(issue, "task_id", "issue_id"), on="task_id")
        .join(dead, on="task_id", how="anti")
        .join(agents, on="agent_id", how="left")
        .join(_last(project, "issue_id", "project_id"), on="issue_id", how="left")
    )
    return (
        rows.join(tasks, on="task_id")  # usage of a dead task died with it (cascade)
        .filter(pl.col("runtime_id").is_not_null())
        .with_columns(bucket_hour=(pl.col("created_at") // HOUR) * HOUR)
    )


def measure(m: Measure) -> pl.Expr:
    """A measure over a key's live rows, its condition parsed by polars. Usage rows are unique per (task, provider,
    model) and the key holds provider and model, so each task adds one row to a key: a distinct-task count is a
    row count (of the rows meeting the condition), without the hashing."""
    cond = pl.sql_expr(m.where).fill_null(False) if m.where else None  # a NULL condition is not met, as in SQL
    if m.agg == "sum":
        col = pl.col(m.column)
        return (col.filter(cond) if cond is not None else col).sum().alias(m.name)
    if m.column == "*" or (m.agg == "count_distinct" and m.column == "task_id"):
        return (cond.sum() if cond is not None else pl.len()).cast(pl.Int64).alias(m.name)
    col = pl.col(m.column).filter(cond) if cond is not None else pl.col(m.column)
    return (col.count() if m.agg == "count" else col.drop_nulls().n_unique()).cast(pl.Int64).alias(m.name)


def hour_truth(rows: pl.DataFrame, measures: tuple[Measure, ...] = DEFAULT_MEASURES) -> pl.DataFrame:
    """Hour-grain truth: one row per rollup key, every measure (in no particular order)."""
    return rows.group_by(KEY).agg(*[measure(m) for m in measures])


# ---------------------------------------------------------------- report grain

def local_date(ts: str, zone: str) -> pl.Expr:
    """The calendar date of an instant (µs) in `zone`, converted row by row (no dynamic group-by)."""
    return pl.col(ts).cast(pl.Datetime("us", "UTC")).dt.convert_time_zone(zone).dt.date()


def report(frame: pl.DataFrame, kind: str, zone: str, cutoff_us: int, ts: str,
           extra: tuple[pl.Expr, ...] = ()) -> pl.DataFrame:
    """A report's rows from `frame` (live usage rows with ts=created_at, or hourly rows with ts=bucket_hour);
    `extra`: further aggregates over those rows (a declared measure the report carries)."""
    groups = REPORT_GROUPS[kind]
    return (
        frame.filter(pl.col(ts) >= cutoff_us)
        .with_columns(date=local_date(ts, zone), provider=pl.col("provider").cast(pl.String).str.to_lowercase())
        .group_by(groups)
        .agg(*[pl.col(c).sum() for c in TOKENS], *extra)
        .with_columns(pl.col(g).cast(pl.String) for g in groups if g != "date")
        .sort(groups, nulls_last=True)
    )
