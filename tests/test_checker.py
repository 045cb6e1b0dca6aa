"""The checker as a pure function, on plain frames: a small history, and snapshots written by hand as the
database would have answered. No server."""

from __future__ import annotations

from datetime import date

import polars as pl

from bench.drive import reads
from bench.drive.history import as_seen, frame_from_ops
from bench.drive.snapshots import REPORT_SCHEMA, Snapshot
from bench.judge import checker
from bench.judge.oracle import hour_truth, usage_rows
from bench.workload.ops import Op
from tests.test_oracle import Story

ZONES = {"UTC": True}


def story() -> tuple[Story, Op]:
    s = Story()
    s.task("t1")
    s.usage("t1", 10)
    s.task("t2", issue=None)
    s.usage("t2", 5, model="n")
    check = s.add("check", final=True)
    return s, check


def snapshot(s: Story, check: Op, rollup: pl.DataFrame, reports: pl.DataFrame | None = None, **kw) -> Snapshot:
    return Snapshot(check.index, check.at, True, rollup, pl.DataFrame(schema=REPORT_SCHEMA) if reports is None
                    else reports, {}, False, **kw)


def truthful(s: Story, check: Op) -> tuple[pl.DataFrame, pl.DataFrame]:
    """What a correct database holds: the rollup as the truth, the raw rows as the history."""
    seen = as_seen(frame_from_ops(s.ops, s.outcomes), check.index)
    rows = usage_rows(seen)
    rollup = hour_truth(rows).select(list(reads.ROLLUP_SCHEMA)).with_columns(
        pl.col(c).cast(pl.String).cast(pl.Categorical) for c in reads.KEY_SCHEMA if c != "bucket_hour")
    return rollup, rows


def reports_of(rollup: pl.DataFrame, zone: str = "UTC") -> pl.DataFrame:
    """The three reports, as a correct read side gives them from `rollup` (every bucket is today)."""
    frames = []
    for kind, scope, extra in (("workspace_daily", "workspace_id", "date"), ("runtime_daily", "runtime_id", "date"),
                               ("workspace_by_agent", "workspace_id", "agent_id")):
        f = rollup.with_columns(date=pl.col("bucket_hour").cast(pl.Datetime("us", "UTC")).dt.date())
        groups = [scope, extra, "provider", "model"]
        f = f.group_by(groups).agg(pl.col(c).sum() for c in ("input_tokens", "output_tokens", "cache_read_tokens",
                                                               "cache_write_tokens"))
        frames.append(f.rename({scope: "scope"}).with_columns(zone=pl.lit(zone), kind=pl.lit(kind)))
    return pl.concat([f.select([pl.col(c).cast(t) if c in f.columns else pl.lit(None, t).alias(c)
                                for c, t in REPORT_SCHEMA.items()]) for f in frames])


def judge(s: Story, check: Op, snap: Snapshot) -> checker.CheckResult:
    return checker.judge(as_seen(frame_from_ops(s.ops, s.outcomes), check.index), snap, ZONES, 30)


def test_a_truthful_snapshot_passes_every_check():
    s, check = story()
    rollup, rows = truthful(s, check)
    r = judge(s, check, snapshot(s, check, rollup, reports_of(rollup), raw=rows, except_all=(0, 0)))
    assert r.signature == set() and r.apply_errors == 0 and r.truth_rows == 2 and r.usage_applied == 2
    assert r.zones[0].pipeline_drift == 0 and r.zones[0].true_tokens == 3 * (10 + 1 + 5 + 1)  # 3 reports


def test_a_wrong_rollup_is_hour_drift_with_the_touching_operations():
    s, check = story()
    rollup, rows = truthful(s, check)
    wrong = rollup.with_columns(input_tokens=pl.when(pl.col("model") == "m").then(11).otherwise(pl.col("input_tokens")))
    r = judge(s, check, snapshot(s, check, wrong, reports_of(rollup), raw=rows, except_all=(1, 1)))
    assert r.hour.summary == {"missing": 0, "extra": 0, "mismatched": 1}
    assert r.bad_keys[0]["deltas"] == {"input_tokens": 1} and any(o["f"] == "usage" for o in r.bad_keys[0]["ops"])
    assert r.zones[0].pipeline_drift == 0  # the reports given were right: drift is judged on what was read


def test_reports_that_differ_from_the_hour_truth_are_pipeline_drift():
    s, check = story()
    rollup, rows = truthful(s, check)
    reports = reports_of(rollup).with_columns(date=pl.lit(date(2026, 3, 2)))  # every day off by one
    r = judge(s, check, snapshot(s, check, rollup, reports, raw=rows, except_all=(0, 0)))
    # 2 rows in each of 2 daily reports, each on a wrong day and missing from its own
    assert r.signature == {"report:drift"} and r.zones[0].pipeline_drift == 8


def test_raw_rows_unlike_the_history_are_apply_errors_and_report_errors_are_kept():
    s, check = story()
    rollup, rows = truthful(s, check)
    moved = rows.with_columns(created_at=pl.col("created_at") + 1)
    snap = snapshot(s, check, rollup, reports_of(rollup), raw=moved, except_all=(0, 0))
    snap.errors = {"UTC": {"runtime_daily": "runtime_daily: 22023: bad zone"}}
    r = judge(s, check, snap)
    assert r.apply_errors == 4 and r.zones[0].error == "runtime_daily: 22023: bad zone"
    assert r.signature == {"report:error"}


def test_a_check_sees_only_what_had_committed_by_then():
    s = Story()
    s.task("t1")
    s.usage("t1", 10)
    held = s.add("usage", task_id="t1", provider="P", model="late", input=7, output=0, cache_read=0, cache_write=0,
                 created_at=None)
    check = s.add("check", final=False)
    ops = frame_from_ops(s.ops, s.outcomes)
    # the held write's outcome was recorded after the check: move its line past the check's
    ops = ops.with_columns(done=pl.when(pl.col("i") == held.index).then(pl.col("n").max() + 1).otherwise(pl.col("done")))
    seen = as_seen(ops, check.index)
    assert seen.filter(pl.col("i") == held.index)["outcome"].to_list() == [None]
    assert usage_rows(seen).get_column("model").to_list() == ["m"]
    assert usage_rows(ops).height == 2  # once committed, it counts
