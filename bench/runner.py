"""The runner: drives one operation stream through a target in simulated time, ticking and checking as it goes.

Ticks run on a fixed cadence (or the scheduler emulation) and are recorded in the history like any operation,
so `replay` re-runs a history exactly, ticks included. At each check the pipeline has had a tick covering every
write (the generator keeps a quiet window before it), and the checker compares the rollup with the oracle.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import psycopg

from bench import checker, oracle
from bench.client import Client, describe
from bench.history import History, HistoryWriter
from bench.ops import Op
from bench.scenario import Scenario
from bench.zones import whole_hour
from rollup.clock import from_us, to_us
from rollup.database import Database
from rollup.migrations import Runner, Target
from rollup.pipeline import Pipeline
from rollup.scheduler import Scheduler

MIGRATE_BEFORE = timedelta(minutes=10)  # the target is migrated this long before the scenario starts


@dataclass
class CheckResult:
    at: int
    final: bool
    hour: checker.HourDiff
    zones: list[checker.ZoneResult]
    apply_errors: int | None = None
    except_all: tuple[int, int] | None = None
    bad_keys: list[dict] = field(default_factory=list)


@dataclass
class RunResult:
    scenario: Scenario
    target: str
    server_version: str
    history_path: Path
    history_sha256: str
    operations: Counter
    outcomes: Counter
    ticks: int
    tick_rows: int
    tick_failures: int
    checks: list[CheckResult]


class Run:
    def __init__(self, sc: Scenario, scenario_text: str, target: Target, db: Database, history_path: Path,
                 replaying: bool = False,
                 on_progress: Callable[[int, "Run"], None] | None = None):
        self.sc, self.target, self.db = sc, target, db
        self.replaying = replaying
        self.history_path = Path(history_path)
        header = {"scenario": sc.name, "digest": sc.digest(), "seed": sc.seed, "toml": scenario_text}
        self.history = HistoryWriter(self.history_path, header)
        self.client = Client(db, sc.pipeline.sessions, self.history)
        self.pipelines = [Pipeline(db) for _ in range(sc.pipeline.replicas)]
        self.scheduler = Scheduler(db, sc.pipeline.replicas, sc.seed) if sc.pipeline.scheduler and not replaying else None
        self.every = sc.pipeline.tick_every // timedelta(microseconds=1)
        self.next_tick = to_us(sc.start) + self.every
        self.last_tick = None
        self.ticks = self.tick_rows = self.tick_failures = 0
        self.ops: Counter = Counter()
        self.checks: list[CheckResult] = []
        self.zones = sc.view_zones()
        end = sc.start + sc.duration
        self.whole = {z: whole_hour(z, sc.start - timedelta(days=sc.zones.report_days), end) for z in self.zones}
        self.on_progress = on_progress or (lambda at, run: None)

    # ------------------------------------------------------------------ ticks

    def tick(self, at: int, replica: int = 0) -> None:
        self.client.flush()
        self.db.clock.set(from_us(at))  # for sessions that do not choose their own start time
        op = Op("tick", at, replica)
        self.history.invoke(op)
        try:
            rows = self.pipelines[replica % len(self.pipelines)].tick(at=from_us(at))
        except psycopg.Error as exc:
            self.history.complete(op, "fail", error=describe(exc))
            self.tick_failures += 1
        else:
            self.history.complete(op, "ok", result=rows)
            self.tick_rows += rows
        self.ticks += 1
        self.last_tick = at

    def ticks_until(self, at: int) -> None:
        """Run the ticks due at or before `at`."""
        if self.replaying:
            return
        if self.scheduler:
            self.client.flush()
            for run in self.scheduler.run_until(from_us(at)):
                op = Op("tick", to_us(run.at), run.replica)
                self.history.invoke(op)
                self.history.complete(op, "ok" if run.ok else "fail", result=run.rows, error=run.error)
                self.ticks += 1
                self.tick_rows += run.rows or 0
                self.tick_failures += not run.ok
                self.last_tick = to_us(run.at)
            return
        while self.next_tick <= at:
            self.tick(self.next_tick)
            self.next_tick += self.every

    # ------------------------------------------------------------------ the stream

    def execute(self, ops: Iterable[Op]) -> None:
        for op in ops:
            self.ticks_until(op.at)
            self.ops[op.name] += 1
            if op.name == "tick":  # only in a replayed history
                self.tick(op.at, op.session)
            elif op.name == "check":
                if not self.replaying and (self.last_tick is None or self.last_tick < op.at):
                    self.tick(op.at)  # a catch-up tick: the quiet window lets it cover every write
                self.check(op)
            else:
                self.client.submit(op)
            self.on_progress(op.at, self)
        self.client.flush()

    def check(self, op: Op) -> None:
        self.history.invoke(op)
        self.history.flush()
        ops = History.load(self.history_path).ops
        rows = oracle.usage_rows(ops)
        truth = oracle.hour_truth(rows)
        now = from_us(op.at)
        with self.db.connect() as conn:
            rollup = checker.rollup_snapshot(conn)
            diff = checker.hour_diff(truth, rollup)
            zones = [checker.zone_report_check(conn, z, self.whole[z], self.sc.zones.report_days, now, rows, truth, rollup)
                     for z in self.zones]
            result = CheckResult(op.at, bool(op.get("final")), diff, zones)
            if result.final:
                result.apply_errors = checker.apply_diff(rows, checker.raw_rows(conn))
                result.except_all = checker.except_all(conn)
        for key in diff.rows.head(20).to_dicts():
            touched, total = checker.touching_ops(ops, key)
            result.bad_keys.append({"key": {k: key[k] for k in oracle.KEY}, "status": key["status"],
                                    "deltas": {c: key[f"{c}_delta"] for c in checker.VALUES if key[f"{c}_delta"]},
                                    "ops": touched, "ops_total": total})
        self.history.complete(op, "ok", result=diff.rows.height)
        self.checks.append(result)

    def close(self) -> None:
        self.client.close()
        for p in self.pipelines:
            p.close()
        if self.scheduler:
            self.scheduler.close()
        self.history.close()


def prepare(server, sc: Scenario, target: Target) -> Database:
    """A fresh database with the target migrated (hooks included) just before the scenario starts."""
    db = Database(server, sc.start - MIGRATE_BEFORE)
    Runner(db, target).up()
    return db


def run(server, sc: Scenario, scenario_text: str, target: Target, history_path: Path, ops: Iterable[Op],
        replaying: bool = False, on_progress=None) -> RunResult:
    """Run `ops` (generated, or a replayed history's) on a fresh database of `server` migrated to `target`."""
    with prepare(server, sc, target) as db:
        r = Run(sc, scenario_text, target, db, history_path, replaying, on_progress)
        try:
            r.execute(ops)
        finally:
            r.close()
        outcomes = Counter({"ok": r.client.applied, "fail": r.client.failed})
        return RunResult(sc, target.name, server.version(), r.history_path, r.history.sha256, r.ops, outcomes,
                         r.ticks, r.tick_rows, r.tick_failures, r.checks)
