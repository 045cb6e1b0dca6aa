"""Sweep (e), writer cost: what the pipeline's triggers cost the application's writers.

Three trigger states of the same seeded world:
- `absent`: migrated through 101 (base and rollup tables, no pipeline triggers). The legacy daily-rollup
  triggers the condensed base schema still carries at 101 are dropped (103 drops them anyway), so the only
  difference from `installed` is the pipeline;
- `installed`: migrated all the way (the pre-103 hook backfills the world), no tick running;
- `active`: installed, plus a thread on its own connection ticking back to back, simulated time +5 min per
  tick, so every tick rolls up what the writers just wrote.

Six operation kinds, each one autocommit transaction with exactly the application's statement:
`usage_insert` (the upsert of a new (task, provider, model) key on a task created beforehand, without usage),
`usage_rereport` (upsert of an existing key), `task_reassign` (runtime → another of the workspace),
`issue_move` (project → another of the workspace), `usage_delete` and `task_delete` (cascading to its usage).

Per-op figures: each repetition visits the states in rotated order, each on a fresh copy of its template, and
times every operation with perf_counter_ns. On a server run here, the measuring thread and its backend share one
CPU and the tick loop gets the others: a cross-CPU round trip on a VM adds a bimodal ~40 µs that would drown
the triggers. The figures are therefore one writer's cost with the tick on a spare core.

Concurrency figures (unpinned): N writers re-reporting Zipf-chosen hot keys (same key = same row lock) and
inserting new usage keys, latency in an HdrHistogram; open loop when a rate is set. A fresh copy per point.

Over 500 lines: the per-op timing, the tick loop and the concurrent writers share one seeded world, one
failure policy (what counts as a transient failure) and the sweep's settings; apart, they would import each
other.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from random import Random
from uuid import UUID

import psycopg
from hdrh.histogram import HdrHistogram

from bench.drive.client import SINGLE
from bench.workload.app import UPSERT_USAGE
from rollup.database import Database
from rollup.migrations import Runner, Target
from rollup.pipeline import Pipeline
from rollup.servers import Server

STATES = ("absent", "installed", "active")
KINDS = ("usage_insert", "usage_rereport", "task_reassign", "issue_move", "usage_delete", "task_delete")
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TICK_STEP = timedelta(minutes=5)
# The real agent_task_queue has no updated_at (pipeline.md §1), so the reassignment does not set one.
STATEMENTS = {
    "usage_insert": UPSERT_USAGE,
    "usage_rereport": UPSERT_USAGE,
    "task_reassign": "UPDATE agent_task_queue SET runtime_id = %(runtime_id)s WHERE id = %(id)s",
    "issue_move": SINGLE["change_issue_project"],
    "usage_delete": SINGLE["delete_usage"],
    "task_delete": SINGLE["delete_task"],
}
LEGACY_TRIGGERS = ("trg_task_usage_daily", "trg_task_usage_dashboard_daily")  # on task_usage until 103
MODELS = (("anthropic", "claude-sonnet-4"), ("anthropic", "claude-opus-4"), ("openai", "gpt-5"),
          ("openai", "gpt-5-mini"), ("google", "gemini-2.5-pro"))
WORKSPACES, RUNTIMES, AGENTS, PROJECTS, ISSUES = 4, 3, 3, 3, 50  # RUNTIMES, AGENTS, … per workspace
REREPORT_SHARE = 0.75  # of concurrent writes; the rest insert new usage keys
HIST_MAX_US = 60_000_000
LOCAL_BACKENDS = ("embedded", "local")  # servers whose backends run on this machine (CPU pinning)


@dataclass(frozen=True)
class WriterSweep:
    ops: int = 300  # measured operations per kind and state (after `warmup` unmeasured ones)
    warmup: int = 30
    repetitions: int = 3
    concurrency: tuple[int, ...] = (1, 2, 4, 8)
    concurrent_seconds: float = 3.0  # per concurrency point
    zipf_s: float = 1.1  # skew of the hot keys
    hot_keys: int = 64  # distinct (task, provider, model) keys the concurrent writers re-report, Zipf-chosen
    rate_per_writer: float | None = None  # open-loop target rate per writer (writes/s); None = closed loop


# ---------------------------------------------------------------- the world


@dataclass(frozen=True)
class Task:
    id: UUID
    workspace: UUID
    runtime: UUID
    usage: tuple[tuple[str, str], ...]  # (provider, model) of its usage rows; empty for fresh tasks


@dataclass(frozen=True)
class WriterWorld:
    runtimes: dict[UUID, tuple[UUID, ...]]  # per workspace
    projects: dict[UUID, tuple[UUID, ...]]  # per workspace
    issues: tuple[tuple[UUID, UUID, UUID | None], ...]  # (issue, workspace, project)
    tasks: tuple[Task, ...]  # with 1–3 usage rows each
    fresh: tuple[Task, ...]  # no usage yet: the targets of usage_insert


def build_world(conn: psycopg.Connection, seed: int, tasks: int, fresh: int) -> WriterWorld:
    """Insert a seeded world with plain INSERTs; ids come from the seed, so every copy is identical."""
    rng = Random(seed)

    def uid() -> UUID:
        return UUID(int=rng.getrandbits(128), version=4)

    rows: dict[str, list[tuple]] = {k: [] for k in ("workspace", "runtime", "agent", "project", "issue")}
    runtimes, projects, agents, issues = {}, {}, {}, []
    for w in range(WORKSPACES):
        ws = uid()
        rows["workspace"].append((ws, f"Workspace {w}", f"ws-{w}"))
        runtimes[ws] = tuple(uid() for _ in range(RUNTIMES))
        rows["runtime"] += [(r, ws, f"runtime-{i}", "claude", f"daemon-{i}") for i, r in enumerate(runtimes[ws])]
        agents[ws] = tuple(uid() for _ in range(AGENTS))
        rows["agent"] += [(a, ws, f"agent-{i}", runtimes[ws][i % RUNTIMES]) for i, a in enumerate(agents[ws])]
        projects[ws] = tuple(uid() for _ in range(PROJECTS))
        rows["project"] += [(p, ws, f"Project {i}") for i, p in enumerate(projects[ws])]
        creator = uid()
        for n in range(1, ISSUES + 1):
            issue = (uid(), ws, rng.choice(projects[ws]) if rng.random() < 0.8 else None)
            issues.append(issue)
            rows["issue"].append((*issue, n, f"Issue {n}", creator))
    by_ws = {ws: [i for i in issues if i[1] == ws] for ws in runtimes}

    task_rows, usage_rows, made = [], [], []
    for n in range(tasks + fresh):
        ws = rng.choice(list(runtimes))
        t = Task(uid(), ws, rng.choice(runtimes[ws]),
                 tuple(rng.sample(MODELS, rng.randint(1, 3))) if n < tasks else ())
        issue = rng.choice(by_ws[ws])[0] if rng.random() < 0.75 else None
        created = START - timedelta(seconds=rng.uniform(3600, 48 * 3600))
        task_rows.append((t.id, rng.choice(agents[ws]), t.runtime, issue, created))
        for provider, model in t.usage:
            at = created + timedelta(seconds=rng.uniform(1, 600))
            usage_rows.append((t.id, provider, model, *(rng.randint(0, 50_000) for _ in range(4)), at,
                               at + timedelta(seconds=rng.uniform(0, 900))))
        made.append(t)

    with conn.transaction(), conn.cursor() as cur:
        cur.executemany("INSERT INTO workspace (id, name, slug) VALUES (%s, %s, %s)", rows["workspace"])
        cur.executemany("INSERT INTO agent_runtime (id, workspace_id, name, runtime_mode, provider, daemon_id)"
                        " VALUES (%s, %s, %s, 'local', %s, %s)", rows["runtime"])
        cur.executemany("INSERT INTO agent (id, workspace_id, name, runtime_mode, runtime_id)"
                        " VALUES (%s, %s, %s, 'local', %s)", rows["agent"])
        cur.executemany("INSERT INTO project (id, workspace_id, title) VALUES (%s, %s, %s)", rows["project"])
        cur.executemany("INSERT INTO issue (id, workspace_id, project_id, number, title, creator_type, creator_id)"
                        " VALUES (%s, %s, %s, %s, %s, 'member', %s)", rows["issue"])
        cur.executemany("INSERT INTO agent_task_queue (id, agent_id, runtime_id, issue_id, status, created_at)"
                        " VALUES (%s, %s, %s, %s, 'completed', %s)", task_rows)
        cur.executemany("INSERT INTO task_usage (task_id, provider, model, input_tokens, output_tokens,"
                        " cache_read_tokens, cache_write_tokens, created_at, updated_at)"
                        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", usage_rows)
    return WriterWorld(runtimes, projects, tuple(issues), tuple(made[:tasks]), tuple(made[tasks:]))


def world_tasks(ops: int) -> int:
    """Tasks with usage the world needs: four disjoint slices of `ops` (rereport, reassign, deletes) and room."""
    return max(2000, 5 * ops)


@contextmanager
def templates(server: Server, target: str, seed: int, ops: int) -> Iterator[tuple[dict[str, str], WriterWorld]]:
    """Template databases per state (one world, built once), and the world; dropped at the end."""
    absent = Database(server, START)
    installed = None
    try:
        Runner(absent, Target.resolve(target)).up(to="101")
        with absent.connect() as conn:
            for name in LEGACY_TRIGGERS:
                conn.execute(f"DROP TRIGGER IF EXISTS {name} ON task_usage")
            world = build_world(conn, seed, world_tasks(ops), ops)
            conn.execute("VACUUM (ANALYZE)")  # stats and hint bits now, not by autovacuum mid-run
        absent.clock.close()  # a template must have no sessions
        installed = Database(server, START, template=absent.name, file_copy=True)
        Runner(installed, Target.resolve(target)).up()
        with installed.connect() as conn:
            conn.execute("VACUUM (ANALYZE)")
        installed.clock.close()
        yield {"absent": absent.name, "installed": installed.name, "active": installed.name}, world
    finally:
        if installed is not None:
            installed.drop()
        absent.drop()


# ---------------------------------------------------------------- operations


def plan(world: WriterWorld, kind: str, n: int, seed: int) -> list[dict]:
    """`n` parameter sets for `kind`, each on its own rows; identical for every state."""
    rng = Random(f"{seed}:plan")  # one shuffle shared by all kinds keeps their task slices disjoint
    tasks = list(world.tasks)
    rng.shuffle(tasks)
    rng = Random(f"{seed}:{kind}")

    def counters() -> dict:
        return {k: rng.randint(0, 50_000) for k in ("input", "output", "cache_read", "cache_write")}

    def usage(task: Task, key: tuple[str, str]) -> dict:
        return {"task_id": task.id, "provider": key[0], "model": key[1], "created_at": None, **counters()}

    if kind == "usage_insert":
        return [usage(t, rng.choice(MODELS)) for t in world.fresh[:n]]
    if kind == "usage_rereport":
        return [usage(t, rng.choice(t.usage)) for t in tasks[:n]]
    if kind == "task_reassign":
        return [{"id": t.id, "runtime_id": rng.choice([r for r in world.runtimes[t.workspace] if r != t.runtime])}
                for t in tasks[n:2 * n]]
    if kind == "usage_delete":
        return [{"task_id": t.id, "provider": k[0], "model": k[1]} for t in tasks[2 * n:3 * n]
                for k in [rng.choice(t.usage)]]
    if kind == "task_delete":
        return [{"id": t.id} for t in tasks[3 * n:4 * n]]
    if kind == "issue_move":
        movable = [i for i in world.issues if i[2] is not None]
        rng.shuffle(movable)
        current = {i[0]: i[2] for i in movable}
        out = []
        for j in range(n):
            issue, ws, _ = movable[j % len(movable)]
            current[issue] = rng.choice([p for p in world.projects[ws] if p != current[issue]])
            out.append({"id": issue, "project_id": current[issue]})
        return out
    raise ValueError(f"unknown operation kind {kind!r}")


def apply(conn: psycopg.Connection, kind: str, params: dict) -> None:
    """One operation: its own transaction on an autocommit connection."""
    conn.execute(STATEMENTS[kind], params)


# Failures concurrency alone causes, which an application retries: counted and reported, never fatal. With the
# tick loop running ('active'), a trigger's queue insert can deadlock with the tick's drain.
TRANSIENT = (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure)


def failure_text(exc: BaseException) -> str:
    """A transient failure as the report lists it: its type and the first line of its message."""
    return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"


def time_ops(conn: psycopg.Connection, kind: str, params: list[dict], warmup: int,
             failures: list[str] | None = None) -> list[int]:
    """Apply every parameter set in turn; the latencies (ns) of all but the first `warmup`. With `failures`,
    an operation that fails transiently (TRANSIENT) is recorded there and left out of the latencies."""
    stmt, out = STATEMENTS[kind], []
    for i, p in enumerate(params):
        started = time.perf_counter_ns()
        try:
            conn.execute(stmt, p)
        except TRANSIENT as exc:
            if failures is None:
                raise
            failures.append(failure_text(exc))
            continue
        if i >= warmup:
            out.append(time.perf_counter_ns() - started)
    return out


def trigger_names(conn: psycopg.Connection) -> list[str]:
    """The user triggers in the public schema: what the state really installed."""
    return [r[0] for r in conn.execute(
        "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE NOT t.tgisinternal AND n.nspname = 'public' ORDER BY 1")]


# ---------------------------------------------------------------- the states


def cpu_split(server: Server) -> tuple[set[int] | None, set[int] | None]:
    """(the measuring CPU, the CPUs left for the tick loop); the same CPU twice on a one-CPU machine. None
    for servers the bench does not run here: their backends' pids are not local processes."""
    if server.backend not in LOCAL_BACKENDS or not hasattr(os, "sched_getaffinity"):
        return None, None
    cpus = sorted(os.sched_getaffinity(0))
    return {cpus[0]}, set(cpus[1:]) or {cpus[0]}


def pin(conn: psycopg.Connection, cpus: set[int]) -> bool:
    """Pin the calling thread and `conn`'s backend to `cpus`; whether it could (Linux, and allowed to).

    A round trip between client and backend on the same CPU is a plain context switch; across CPUs it waits
    for an idle CPU to wake, which on a VM costs tens of µs and flips from run to run, drowning trigger costs."""
    try:
        os.sched_setaffinity(conn.info.backend_pid, cpus)
        os.sched_setaffinity(0, cpus)  # 0: the calling thread
        return True
    except (AttributeError, OSError):
        return False


@contextmanager
def pinned(conn: psycopg.Connection, cpus: set[int] | None) -> Iterator[bool]:
    """`pin` for a block (nothing when `cpus` is None); the thread's affinity is restored after."""
    before = os.sched_getaffinity(0) if cpus and hasattr(os, "sched_getaffinity") else None
    try:
        yield pin(conn, cpus) if cpus else False
    finally:
        if before is not None:
            os.sched_setaffinity(0, before)


MAX_TRANSIENT_IN_A_ROW = 5  # then the loop is not ticking but failing: it stops, and stop() says why


class TickLoop:
    """Ticks back to back on its own connection, advancing simulated time 5 minutes before each; on `cpus`
    when given, so the tick competes with a pinned writer for locks and buffers but not for its CPU."""

    def __init__(self, db: Database, cpus: set[int] | None = None):
        self.db, self.pipeline, self.cpus = db, Pipeline(db), cpus
        self.ticks = self.rows = self.failed = 0
        self.errors: list[str] = []  # ticks that raised a TRANSIENT error, counted in `ticks`
        self._stop = threading.Event()
        self._done = threading.Condition()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="tick-loop", daemon=True)

    def start(self) -> TickLoop:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            if self.cpus:
                pin(self.pipeline.conn, self.cpus)
            in_a_row = 0
            while not self._stop.is_set():
                try:
                    rows = self.pipeline.tick(at=self.db.clock.advance(TICK_STEP))
                    in_a_row = 0
                except TRANSIENT as exc:  # e.g. a deadlock with a writer's trigger: counted, the next tick retries
                    in_a_row += 1
                    if in_a_row >= MAX_TRANSIENT_IN_A_ROW:
                        raise
                    self.errors.append(failure_text(exc))
                    rows = 0  # counted in `errors`, not in `failed`
                with self._done:
                    self.ticks += 1
                    self.rows += max(rows, 0)
                    self.failed += rows < 0  # a hardened tick reports its persisted error as -1
                    self._done.notify_all()
        except BaseException as exc:  # surfaced by stop()
            self._error = exc
        finally:
            self.pipeline.close()
            with self._done:
                self._done.notify_all()

    def wait(self, ticks: int, timeout: float = 30.0) -> bool:
        """Block until at least `ticks` ticks have finished (or the loop died); whether they did."""
        with self._done:
            return self._done.wait_for(lambda: self.ticks >= ticks or not self._thread.is_alive(), timeout) \
                and self.ticks >= ticks

    def summary(self) -> dict:
        """What the loop did: ticks, rows rolled up, ticks that failed (persisted -1 or raised) and the first
        error raised."""
        return {"ticks": self.ticks, "rows": self.rows, "failed": self.failed + len(self.errors),
                "first_failure": (self.errors or [None])[0]}

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        if self._error is not None:
            e = self._error
            raise RuntimeError(f"the tick loop failed after {self.ticks} ticks: {type(e).__name__}: {e}") from e


@dataclass
class Handle:
    db: Database
    state: str
    ticks: TickLoop | None  # only in 'active'


@contextmanager
def open_state(server: Server, names: dict[str, str], state: str,
               tick_cpus: set[int] | None = None) -> Iterator[Handle]:
    """A fresh copy of the state's template (the tick loop running in 'active'); dropped at the end."""
    db = Database(server, START, template=names[state], file_copy=True)
    loop = None
    try:
        loop = TickLoop(db, tick_cpus).start() if state == "active" else None
        if loop is not None:  # the loop is ticking before anything is measured beside it, whatever the machine's load
            loop.wait(1, timeout=300)
        yield Handle(db, state, loop)
    finally:
        try:
            if loop is not None:
                loop.stop()
        finally:
            db.drop()


# ---------------------------------------------------------------- concurrent writers


def drive(op: Callable[[], None], seconds: float, rate: float | None, record: Callable[[int], None],
          now_ns: Callable[[], int] = time.perf_counter_ns,
          sleep: Callable[[float], None] = time.sleep) -> tuple[int, int, int]:
    """Run `op` for `seconds`, recording each latency in ns; returns (start, end, ops).

    Closed loop (rate None): the next op starts when the last ends; latency from its start. Open loop: op i is
    due at start + i/rate and its latency counts from that due time, so a stall is charged to every op it
    delayed (no coordinated omission). Every op due before the end runs, but never past twice the duration."""
    t0 = now_ns()
    stop, hard_stop = t0 + int(seconds * 1e9), t0 + int(2 * seconds * 1e9)
    i = 0
    while True:
        now = now_ns()
        if rate:
            due = t0 + round(i * 1e9 / rate)
            if due >= stop or now >= hard_stop:
                break
            if now < due:
                sleep((due - now) / 1e9)
        else:
            due = now
            if due >= stop:
                break
        op()
        record(now_ns() - due)
        i += 1
    return t0, now_ns(), i


def zipf_cum_weights(n: int, s: float) -> list[float]:
    """Cumulative weights of ranks 1..n with P(k) ∝ k^-s, for Random.choices."""
    total, out = 0.0, []
    for k in range(1, n + 1):
        total += k ** -s
        out.append(total)
    return out


def hot_keys(world: WriterWorld, n: int, seed: int) -> list[tuple[UUID, str, str]]:
    rng = Random(f"{seed}:hot")
    keys = [(t.id, p, m) for t in world.tasks for p, m in t.usage]
    return rng.sample(keys, min(n, len(keys)))


def run_concurrent(db: Database, world: WriterWorld, writers: int, sweep: WriterSweep, seed: int) -> dict:
    """`writers` threads, each on its own connection, for sweep.concurrent_seconds; TPS and latency."""
    hot = hot_keys(world, sweep.hot_keys, seed)
    cum = zipf_cum_weights(len(hot), sweep.zipf_s)
    hist = HdrHistogram(1, HIST_MAX_US, 3)
    lock, barrier = threading.Lock(), threading.Barrier(writers)
    spans, errors, failures = [], [], []

    def writer(w: int, conn: psycopg.Connection) -> None:
        rng, mine = Random(f"{seed}:{writers}:{w}"), HdrHistogram(1, HIST_MAX_US, 3)
        counter = iter(range(1 << 62))

        def op() -> None:
            values = {k: rng.randint(0, 50_000) for k in ("input", "output", "cache_read", "cache_write")}
            if rng.random() < REREPORT_SHARE:
                task, provider, model = hot[rng.choices(range(len(hot)), cum_weights=cum)[0]]
            else:  # a new key: a model name no other write uses
                task, provider, model = rng.choice(world.tasks).id, "anthropic", f"new-{writers}-{w}-{next(counter)}"
            try:
                conn.execute(UPSERT_USAGE, {"task_id": task, "provider": provider, "model": model,
                                            "created_at": None, **values})
            except TRANSIENT as exc:
                with lock:
                    failures.append(failure_text(exc))

        try:
            barrier.wait()
            span = drive(op, sweep.concurrent_seconds, sweep.rate_per_writer,
                         lambda ns: mine.record_value(min(max(ns // 1000, 1), HIST_MAX_US)))
            with lock:
                spans.append(span)
                hist.add(mine)
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()

    conns = [db.connect() for _ in range(writers)]
    try:
        threads = [threading.Thread(target=writer, args=(w, c)) for w, c in enumerate(conns)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for c in conns:
            c.close()
    if errors:
        raise RuntimeError(f"a concurrent writer failed ({writers} writers)") from errors[0]
    elapsed = (max(s[1] for s in spans) - min(s[0] for s in spans)) / 1e9
    return {"tps": sum(s[2] for s in spans) / elapsed,
            "p50_ms": hist.get_value_at_percentile(50) / 1000, "p99_ms": hist.get_value_at_percentile(99) / 1000,
            "failures": len(failures), "first_failure": failures[0] if failures else None}


# ---------------------------------------------------------------- the sweep


def step_count(sweep: WriterSweep) -> int:
    """How many times measure_writers calls on_step (for a progress bar's total)."""
    return sweep.repetitions * len(STATES) * len(KINDS) + len(STATES) * len(sweep.concurrency)


def measure_writers(server: Server, target: str, sweep: WriterSweep, seed: int = 1,
                    on_step: Callable[[str], None] | None = None) -> dict:
    """Per-op latency of each kind in each state, and writer throughput and latency under concurrency.

    ops[kind][state]: median_us is the median over repetitions of each repetition's median; min_us and max_us
    the smallest and largest repetition median. tick_loop: the 'active' state's ticks over all repetitions,
    with those that failed (a finding: the report shows them)."""
    step = on_step or (lambda _: None)
    n = sweep.warmup + sweep.ops
    medians = {k: {s: [] for s in STATES} for k in KINDS}
    failures: dict[str, dict[str, list[str]]] = {k: {s: [] for s in STATES} for k in KINDS}
    concurrency, loops = [], []
    measuring, ticking = cpu_split(server)
    with templates(server, target, seed, n) as (names, world):
        plans = {k: plan(world, k, n, seed) for k in KINDS}
        for rep in range(sweep.repetitions):
            for state in STATES[rep % 3:] + STATES[:rep % 3]:
                with (open_state(server, names, state, ticking) as h, h.db.connect() as conn,
                      pinned(conn, measuring)):
                    for kind in KINDS:
                        step(f"writer cost: {kind}, {state}, repetition {rep + 1}/{sweep.repetitions}")
                        medians[kind][state].append(statistics.median(time_ops(
                            conn, kind, plans[kind], sweep.warmup, failures[kind][state])) / 1000)
                if h.ticks is not None:
                    loops.append(h.ticks.summary())
        for state in STATES:
            for writers in sweep.concurrency:
                step(f"writer cost: {writers} concurrent writer(s), {state}")
                with open_state(server, names, state) as h:
                    concurrency.append({"state": state, "writers": writers,
                                        **run_concurrent(h.db, world, writers, sweep, seed)})
    ops = {k: {s: {"median_us": statistics.median(v), "min_us": min(v), "max_us": max(v),
                   "failures": len(failures[k][s]), "first_failure": (failures[k][s] or [None])[0]}
               for s, v in by_state.items()} for k, by_state in medians.items()}
    tick_loop = {k: sum(x[k] for x in loops) for k in ("ticks", "rows", "failed")}
    tick_loop["first_failure"] = next((x["first_failure"] for x in loops if x["first_failure"]), None)
    return {"ops": ops, "concurrency": concurrency, "tick_loop": tick_loop}
