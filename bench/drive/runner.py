"""The runner: drives one operation stream through a target in simulated time, ticking and checking as it goes.

Generated scenarios tick on a fixed cadence (or the scheduler emulation); scripted ones (reproductions, peer
cases) tick only where their steps say, and may impose faults through the nemesis. Everything that happens —
operations, ticks, faults, checks — is recorded in the history, so `replay` re-runs a history exactly. At each
check the pipeline has had a tick covering every write, and the checker compares the rollup with the oracle.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl
import psycopg

from bench.drive import reads, snapshots
from bench.drive.client import Client, describe
from bench.drive.history import TICK_RETURNED_FAILURE, History, HistoryWriter, as_seen
from bench.drive.nemesis import Nemesis
from bench.drive.watchdog import Stuck, Watchdog
from bench.workload import steps
from bench.workload.faults import NEMESIS_CONN
from bench.workload.ops import FAULTS, Op
from bench.workload.scenario import Scenario
from rollup import backfill, readside
from rollup.clock import from_us, to_us
from rollup.database import Database
from rollup.migrations import ROLLUPS_FILE, Runner, Target, TargetError, Templates
from rollup.pipeline import Pipeline
from rollup.scheduler import Scheduler

MIGRATE_BEFORE = timedelta(minutes=10)  # the target is migrated this long before the scenario starts

# What the runner does for each fault kind (bench.workload.kinds declares them; tests/test_kinds.py holds the two to
# each other): Run methods, registered by kind name with @action.
ACTIONS: dict[str, Callable] = {}
PENDING = object()  # an action that started work in the background: its `await` completes it


def action(*names: str) -> Callable:
    def register(fn: Callable) -> Callable:
        for name in names:
            ACTIONS[name] = fn
        return fn

    return register


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
    checks: list  # the judge's result at each check (bench.judge.checker.CheckResult)
    script: list[Op] = field(default_factory=list)  # a scripted scenario's operations, for printing
    tick_seconds: list[float] = field(default_factory=list)
    failures: dict[str, dict] = field(default_factory=dict)  # per kind: count and the first failure


class NotApplicable(RuntimeError):
    """A run that cannot be carried out on this chain — a reproduction stopping at a migration the chain lacks,
    or checking, part way up the chain, what rollups.toml declares before the chain adds it. Its own outcome:
    neither a divergence nor the target's failure; str() is the reason."""


def scripted_ops(sc: Scenario) -> list[Op]:
    """A scripted scenario's operations: the named world, its steps, and a final check if it has none."""
    start = to_us(sc.start)
    sessions: dict[str, int] = {}
    ops = steps.world(start) + [op for s in sc.steps for op in steps.to_ops(s, start, sessions)]
    if not ops or ops[-1].name != "check":
        ops.append(Op("check", ops[-1].at if ops else start, 0, {"final": True}))
    ops[-1].value["final"] = True
    return ops


# What a run is handed to judge each check by (bench.judge.checker.for_run): the history as it stood there, the
# snapshot just read and the viewing zones it read, to a check result. The drive records and reads; it never
# judges by itself.
Judge = Callable[[pl.DataFrame, snapshots.Snapshot, list[str]], Any]


@dataclass(frozen=True)
class RunSpec:
    """What a run is of: the scenario (and its text, for the history's header), the target, the history's file."""

    sc: Scenario
    text: str
    target: Target
    history_path: Path


@dataclass(frozen=True)
class RunHooks:
    """How a run is carried out: its judge, whether it replays a history, the progress callback, the templates
    its database is cloned from, whether it ticks only where told (None: a scripted scenario does), and whether a
    `restart` restarts the server (False: only reconnects this run's sessions — another run sharing the server,
    an A/B diff in lockstep, restarts it)."""

    judge: Judge
    replaying: bool = False
    on_progress: Callable[[int, "Run"], None] | None = None
    templates: Templates | None = None
    scripted: bool | None = None
    restarts: bool = True


class Run:
    def __init__(self, spec: RunSpec, db: Database, hooks: RunHooks, server=None):
        sc, scenario_text, target, history_path = spec.sc, spec.text, spec.target, spec.history_path
        replaying, on_progress, scripted, restarts, judge = (hooks.replaying, hooks.on_progress, hooks.scripted,
                                                              hooks.restarts, hooks.judge)
        self.sc, self.target, self.db, self.server, self.judge = sc, target, db, server, judge
        self.restarts = restarts
        self.replaying = replaying
        self.scripted = bool(sc.steps) if scripted is None else scripted  # ticks only where told
        self.history_path = Path(history_path)
        header = {"scenario": sc.name, "digest": sc.digest(), "seed": sc.seed, "toml": scenario_text}
        self.columns = target.usage_columns()  # optional raw usage columns: recorded, written and judged
        if self.columns:  # (only then: a history without them is as it always was)
            header["columns"] = {c.name: c.header() for c in self.columns}
        zones = sc.session_zones()  # drawn by seed: a replay draws the same; the header says them for a reader
        if zones:
            db.set_zones(zones)
            header["session_zones"] = zones
        if sc.nemesis():  # a session blocked by a nemesis-held lock gives up (the runner is single-threaded)
            db.app_settings["lock_timeout"] = f"{sc.faults.lock_timeout // timedelta(milliseconds=1)}ms"
        self.history = HistoryWriter(self.history_path, header)
        self.nemesis = Nemesis(db)
        self.client = Client(db, sc.pipeline.sessions, self.history, self.nemesis.held, columns=self.columns)
        self.pipelines: dict[str, Pipeline] = {}
        self.scheduler = None
        if sc.pipeline.scheduler and not replaying and not self.scripted:
            self.scheduler = Scheduler(db, sc.pipeline.replicas, sc.seed)
        self.every = sc.pipeline.tick_every // timedelta(microseconds=1)
        self.next_tick = to_us(sc.start) + self.every
        self.last_tick = None
        self.ticks = self.tick_rows = self.tick_failures = 0
        self.tick_seconds: list[float] = []
        self.error_lost = False  # a failed tick left last_error empty
        self.ops: Counter = Counter()
        self.checks: list = []
        self.snapshots: list[snapshots.Snapshot] = []
        self.zones = sc.view_zones()
        self.rollups = target.rollups()  # read once: every check snapshots the same tables
        self.declared_checked = False  # what rollups.toml declares, held to the schema (check_declared)
        self.on_progress = on_progress or (lambda at, run: None)
        self.pending: dict[str, Op] = {}  # background work awaiting its completion record
        self.watchdog = Watchdog(db)  # no statement of the run waits past its deadline

    def pipeline(self, name: str | None) -> Pipeline:
        """The pooled connection a tick runs on, by name; reused, as a scheduler's pool reuses them."""
        name = name or "pool"
        if name not in self.pipelines:
            self.pipelines[name] = Pipeline(self.db)
        return self.pipelines[name]

    # ------------------------------------------------------------------ ticks

    def _tick_done(self, op: Op, rows: int | None, error: str | None) -> None:
        failed = error is not None or (rows is not None and rows < 0)  # a hardened tick reports failure as -1
        # The scenario's doing, not the target's: a tick the fault schedule started in order to cancel it, and one
        # that waited out lock_timeout on a lock a transaction of the nemesis held.
        nemesis = op.get("conn") == NEMESIS_CONN
        caused = error is not None and (nemesis or (error.startswith("55P03") and bool(self.nemesis.held)))
        self.history.complete(op, "fail" if error else "ok", result=rows, error=error, tally=not caused)
        if failed and error is None and not nemesis:
            self.history.tally(op, TICK_RETURNED_FAILURE)
        self.ticks += 1
        self.tick_failures += failed
        # A cancel, a terminated backend, a server going down or a lost connection (SQLSTATE classes 57 and 08) end
        # the statement before any handler runs: no target could record them. Any other error it could.
        unrecordable = error is not None and error[:2] in ("57", "08")
        if failed and not unrecordable and not self.error_lost:  # did the failure leave a trace in the state row? (B8)
            with self.db.connect() as conn:
                self.error_lost = conn.execute(
                    "SELECT last_error IS NULL FROM task_usage_hourly_rollup_state WHERE id = 1").fetchone()[0]
        self.tick_rows += max(rows or 0, 0)
        self.last_tick = op.at

    def tick(self, op: Op) -> None:
        self.client.flush()
        self.db.clock.set(from_us(op.at))  # for sessions that do not choose their own start time
        self.history.invoke(op)
        pipeline = self.pipeline(op.get("conn"))
        work = lambda: pipeline.tick(at=from_us(op.at), timeout_ms=op.get("timeout_ms"))  # noqa: E731
        if op.get("wait") is False:
            self.nemesis.start(op.get("conn") or "pool", pipeline.conn, work)
            self.pending[op.get("conn") or "pool"] = op
            return
        started = time.perf_counter()
        try:
            rows, error = work(), None
        except psycopg.Error as exc:
            rows, error = None, describe(exc)
        self.tick_seconds.append(time.perf_counter() - started)  # wall time: for capacity, never for verdicts
        self._tick_done(op, rows, error)

    def ticks_until(self, at: int) -> None:
        """Run the ticks due at or before `at` (generated scenarios only: scripts tick where they say)."""
        if self.replaying or self.scripted:
            return
        if self.scheduler:
            self.client.flush()
            for run in self.scheduler.run_until(from_us(at)):
                op = Op("tick", to_us(run.at), run.replica, {"conn": f"replica-{run.replica}", "wait": True})
                self.history.invoke(op)
                self._tick_done(op, run.rows, run.error)
            return
        while self.next_tick <= at:
            self.tick(Op("tick", self.next_tick, 0, {"conn": "pool", "wait": True}))
            self.next_tick += self.every

    # ------------------------------------------------------------------ faults

    def fault(self, op: Op) -> None:
        """A fault or nemesis step: its action (ACTIONS, one per fault kind of bench.workload.kinds), recorded."""
        self.client.flush()
        self.history.invoke(op)
        result, error = None, None
        try:
            result = ACTIONS[op.name](self, op)
        except (psycopg.Error, RuntimeError) as exc:
            error = describe(exc) if isinstance(exc, psycopg.Error) else str(exc)
        if result is PENDING:  # completed by the `await` that collects it
            return
        self.history.complete(op, "fail" if error else "ok", result=result, error=error)

    @action("await")
    def _await(self, op: Op) -> None:
        started = self.pending.pop(op.get("conn"))
        try:
            value, failure = self.nemesis.wait(op.get("conn")), None
        except psycopg.Error as exc:
            value, failure = None, describe(exc)
        if started.name == "tick":
            self._tick_done(started, value, failure)
        else:
            self.history.complete(started, "fail" if failure else "ok", error=failure)

    @action("wait_blocked")
    def _wait_blocked(self, op: Op) -> None:
        self.nemesis.wait_blocked(op.get("conn"))

    @action("cancel")
    def _cancel(self, op: Op) -> int:
        return int(self.nemesis.signal(op.get("conn"), op.get("how")))

    @action("begin")
    def _begin(self, op: Op) -> None:
        self.nemesis.begin(op.session, op.at)

    @action("commit", "rollback")
    def _end(self, op: Op) -> None:
        commit = op.name == "commit"
        try:
            self.nemesis.end(op.session, commit=commit)
        except psycopg.Error as exc:
            self.client.resolve(op.session, False, error=describe(exc))
            raise
        self.client.resolve(op.session, commit)

    @action("lock")
    def _lock(self, op: Op):
        return self.nemesis.lock(op.session, op.at, op.get("target"), op.get("task_id"))

    @action("backfill")
    def _backfill(self, op: Op):
        self.db.clock.set(from_us(op.at))
        conn = self.db.connect(role="backfill")
        work = lambda: backfill.backfill(self.db, backfill.Options(months_back=op.get("months_back"),  # noqa: E731
                                                                   force=bool(op.get("force"))), conn=conn)
        if op.get("wait") is False:
            self.nemesis.start(op.get("conn"), conn, work)
            self.pending[op.get("conn")] = op
            return PENDING
        return sum(work().rows)  # the backfill closes its connection

    @action("migrate")
    def _migrate(self, op: Op) -> int:
        self.db.clock.set(from_us(op.at))
        applied = Runner(self.db, self.target).up(op.get("to"))
        self.client.schema_changed()  # a declared usage column the migration added joins the writes
        return len(applied)

    @action("pause")
    def _pause(self, op: Op) -> None:  # replays tick where the history says: nothing to do
        until = op.get("until")
        if self.scheduler:
            self.scheduler.pause(from_us(until))
        while self.next_tick < until:
            self.next_tick += self.every

    @action("restart")
    def _restart(self, op: Op) -> None:  # every session dies with the server: reconnect what the run holds
        if self.restarts:
            self.server.restart()
        self.nemesis.close()
        self.client.abandon("the server restarted before the commit")
        self.client.reconnect()
        for pipeline in self.pipelines.values():
            pipeline.close()
        self.db.clock.close()

    # ------------------------------------------------------------------ the stream

    def execute(self, ops: Iterable[Op]) -> None:
        if not (self.sc.repro and self.sc.repro.migrate_to):  # migrated all the way: the schema is what it will be
            self.check_declared()
        for op in ops:
            try:
                self._step(op)
            except (psycopg.Error, RuntimeError) as exc:  # a statement the watchdog cancelled, or what followed
                if self.watchdog.tripped and not isinstance(exc, Stuck):
                    self.watchdog.check(self._doing(op))
                raise
            self.watchdog.check(self._doing(op))
            self.on_progress(op.at, self)
        self.client.flush()
        self.watchdog.check("the last writes")

    @staticmethod
    def _doing(op: Op) -> str:
        return f"run stuck at operation {op.index} ({op.name}, {from_us(op.at):%Y-%m-%d %H:%M:%S})"

    def _step(self, op: Op) -> None:
        self.ticks_until(op.at)
        self.ops[op.name] += 1
        if self.scripted and op.name != "restart":  # sessions that do not choose their start time (a
            # backfill's) see time pass; not before a restart, which another run may already have done
            self.db.clock.set(from_us(op.at))
        if op.name == "tick":
            self.tick(op)
        elif op.name == "check":
            catch_up = not self.replaying and not self.scripted
            if catch_up and (self.last_tick is None or self.last_tick < op.at):
                self.tick(Op("tick", op.at, 0, {"conn": "pool", "wait": True}))  # the quiet window's tick
            self.check(op)
        elif op.name in FAULTS:
            self.fault(op)
        else:
            self.client.submit(op)

    def check_declared(self) -> None:
        """Once: what rollups.toml declares (measures, optional raw columns) is there in the schema — before the
        stream when the target is migrated all the way, else at the first check."""
        if self.declared_checked:
            return
        self.declared_checked = True
        with self.db.connect() as conn:
            problems = reads.check_declared(conn, self.rollups, self.columns)
        last = self.target.migrations()[-1].version
        if problems and last not in Runner(self.db, self.target).applied():
            raise NotApplicable(f"its check comes while the chain stands short of {last}, and the schema lacks "
                                f"what {ROLLUPS_FILE} declares: {'; '.join(problems)}")
        if problems:
            raise TargetError(f"target {self.target.name!r}: its {ROLLUPS_FILE} declares what its schema lacks: "
                              + "; ".join(problems))

    def check(self, op: Op) -> None:
        """Read the database's side (bench/drive/snapshots.py), keep it beside the history, and judge it against the
        history as it stands — the same judgement `rollup-bench check` makes offline."""
        self.client.flush()
        self.history.invoke(op)
        self.history.flush()
        seen = as_seen(History.load(self.history_path, check=False).ops, op.index)  # its own file, mid-run
        scopes = {"workspace_id": seen.filter(pl.col("f") == "workspace").get_column("id").to_list(),
                  "runtime_id": seen.filter(pl.col("f") == "runtime").get_column("id").to_list()}
        self.check_declared()
        with self.db.connect() as conn:
            snap = snapshots.capture(conn, snapshots.Moment(op.index, op.at, from_us(op.at), bool(op.get("final")),
                                                            self.error_lost),
                                     snapshots.Plan(self.zones, self.sc.zones.report_days, scopes, self.target.reads,
                                                    self.rollups, self.columns))
        self.snapshots.append(snap)
        snapshots.save(self.history_path, self.snapshots, {
            "target": self.target.name, **readside.meta(self.target.reads), "zones": self.zones,
            "server_version": self.server.version() if self.server else ""})
        result = self.judge(seen, snap, self.zones)
        self.history.complete(op, "ok", result=result.hour.rows.height)
        self.checks.append(result)

    def close(self) -> None:
        try:
            self.nemesis.close()
            self.client.abandon("never committed: the run ended first")
            self.client.close(flush=not self.watchdog.tripped)  # a stuck run's pending writes wait on nothing more
            for p in self.pipelines.values():
                p.close()
            if self.scheduler:
                self.scheduler.close()
        finally:
            self.watchdog.stop()
            self.history.close()  # whatever failed, the history so far reaches the file (it is buffered)

    def result(self, script: list[Op] | None = None) -> RunResult:
        """What the run did and saw, once closed."""
        outcomes = Counter({"ok": self.client.applied, "fail": self.client.failed})
        return RunResult(self.sc, self.target.name, self.server.version() if self.server else "", self.history_path,
                         self.history.sha256, self.ops, outcomes, self.ticks, self.tick_rows, self.tick_failures,
                         self.checks, script or [], self.tick_seconds, self.history.failures)


def prepare(server, sc: Scenario, target: Target, templates: Templates | None = None) -> Database:
    """A fresh database with the target migrated (hooks included) just before the scenario starts — only as far
    as a reproduction's `migrate_to`, when it says so. With `templates`, a clone of one migrated the same way."""
    start, to = sc.start - MIGRATE_BEFORE, sc.repro.migrate_to if sc.repro and sc.repro.migrate_to else None
    if to is not None:
        try:
            target.find(to)
        except TargetError:
            raise NotApplicable(f"it stops the chain at migration {to}, which the chain does not have") from None
    if templates is not None:
        return templates.fresh(target, start, to)
    db = Database(server, start)
    Runner(db, target).up(to)
    return db


def run(server, spec: RunSpec, ops: Iterable[Op], hooks: RunHooks) -> RunResult:
    """Run `ops` (generated, scripted, or a replayed history's) on a fresh database of `server` migrated to
    the spec's target."""
    sc = spec.sc
    ops = list(ops) if sc.steps else ops
    with prepare(server, sc, spec.target, hooks.templates) as db:
        r = Run(spec, db, hooks, server)
        try:
            r.execute(ops)
        finally:
            r.close()
        return r.result(ops if sc.steps else [])
