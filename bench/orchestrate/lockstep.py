"""A/B differential: one operation stream on two targets in lockstep, their rollups compared as they go.

Both targets get the same operations at the same simulated times (ticks included); after every Nth tick and at
every check the two `task_usage_hourly` snapshots are joined on the key, and any difference is recorded with the
keys involved — e.g. reference against hardened, or an old migration against a new one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from bench.drive import reads
from bench.drive.runner import Run, RunHooks, RunSpec, prepare
from bench.judge import checker
from bench.workload.columns import KEY, VALUES
from bench.workload.ops import Op
from bench.workload.scenario import Scenario
from rollup.clock import from_us
from rollup.migrations import Target


@dataclass
class Divergence:
    at: int
    keys: int  # keys whose rows differ (present on one side only, or with other values)
    examples: list[dict] = field(default_factory=list)


@dataclass
class DiffResult:
    compared: int = 0
    divergences: list[Divergence] = field(default_factory=list)
    histories: tuple[str, str] = ("", "")


def compare(a: pl.DataFrame, b: pl.DataFrame) -> pl.DataFrame:
    """Rows of a and b that differ, keyed; `side` says which rollup has the key (a, b or both)."""
    diff = checker.hour_diff(a, b).rows  # a plays the truth: missing = only in a, extra = only in b
    side = pl.col("status").replace_strict({"missing": "a", "extra": "b", "mismatched": "both"}, return_dtype=pl.String)
    return diff.with_columns(side=side)


@dataclass(frozen=True)
class Lockstep:
    """One operation stream (`ops`, of scenario `sc` whose text is `text`) on targets `a` and `b`, compared after
    every `every` ticks and at every check; histories in `report_dir`."""

    sc: Scenario
    text: str
    a: Target
    b: Target
    ops: list[Op]
    report_dir: Path
    every: int = 12


def lockstep(scenario: Path, a: str, b: str, report_dir: Path, every: int = 12) -> Lockstep:
    """`rollup-bench diff`'s stream: the scenario file's operations on the two targets named."""
    from bench.orchestrate.execute import ops_for
    from bench.workload.scenario import load

    sc = load(scenario)
    return Lockstep(sc, scenario.read_text(), Target.resolve(a), Target.resolve(b), ops_for(sc), report_dir, every)


def run_diff(server, step: Lockstep, on_progress=None) -> DiffResult:
    sc, text, a, b, ops, report_dir, every = (step.sc, step.text, step.a, step.b, step.ops, step.report_dir,
                                              step.every)
    result = DiffResult()
    with prepare(server, sc, a) as db_a, prepare(server, sc, b) as db_b:
        # one server, restarted once per `restart` (by a's run); both runs reconnect
        runs = [Run(RunSpec(sc, text, t, report_dir / f"{sc.name}-diff-{side}.history.jsonl"), db,
                    RunHooks(judge=checker.for_run(sc, t.reads.exact), restarts=side == "a"), server)
                for side, t, db in (("a", a, db_a), ("b", b, db_b))]
        result.histories = tuple(str(r.history_path) for r in runs)
        last_ticks = 0
        try:
            for op in ops:
                for r in runs:
                    r.execute([op])
                ticks = runs[0].ticks
                if op.name == "check" or ticks >= last_ticks + every:
                    last_ticks = ticks
                    snapshot_diff(runs, op.at, result)
                if on_progress:
                    on_progress(op.at, runs[0])
            if ops and ops[-1].name != "check":
                snapshot_diff(runs, ops[-1].at, result)
        finally:
            for r in runs:
                r.close()
    return result


def snapshot_diff(runs: list[Run], at: int, result: DiffResult) -> None:
    for r in runs:
        r.client.flush()
    frames = []
    for r in runs:
        with r.db.connect() as conn:
            frames.append(reads.rollup_snapshot(conn))
    rows = compare(*frames)
    result.compared += 1
    if rows.height:
        examples = [{"side": d["side"], "bucket_hour": from_us(d["bucket_hour"]).isoformat(),
                     **{k: d[k] for k in KEY[1:]},
                     "deltas": {c: d[f"{c}_delta"] for c in VALUES if d[f"{c}_delta"]}}
                    for d in rows.head(5).to_dicts()]
        result.divergences.append(Divergence(at, rows.height, examples))
