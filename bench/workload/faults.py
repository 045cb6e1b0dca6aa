"""The registry of fault kinds: each fault a generated scenario can draw (`[faults]`) or ask for by construction
(`[cover]`), declared once — its name in the schedule, its rate key, the `[cover]` keys that ask for it, the
connection its own work runs on, when its tick comes, and the counts coverage reads it back under.

Scenario reading (bench/workload/scenario.py), the schedule and its strikes (bench/workload/schedule.py,
strikes.py) and coverage (bench/judge/coverage.py) iterate this registry; adding a fault is one entry here and
its strike (`@strikes` in bench/workload/strikes.py), held to each other by tests/test_fault_registry.py.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from rollup.units import MINUTE

FAULT_SESSIONS = 200  # held sessions of scheduled faults are numbered from here (scripted steps' from 100)
NEMESIS_CONN = "nemesis"  # the pooled connection the nemesis's own ticks run on: their failures are its doing
RACE_CONN = "race"  # the one a raced tick runs on (its outcome counts: it is an ordinary tick)
REQUEUE_CONN = "requeue"  # the one a tick held while keys it read are re-enqueued runs on (it counts, too)
TIMEOUT_MS = 300  # the statement_timeout of a tick that is to time out at its waitpoint
ROLLED_UP = 30 * MINUTE  # a raced key was first reported this long before: its rollup row exists
# A lock wait's (and a requeue's) tick comes this long after its first half: the window of a tick then reaches
# past that first half (it ends 5 minutes before the tick's time).
LOCK_WAIT_AFTER = 5 * MINUTE + 1_000
LEAD = 60 * MINUTE  # [cover] faults start this far into a run: a requeue needs keys rolled up by then
# How a requeue's re-enqueue dates itself against the queue row the held tick read: later (a writer after the
# tick read), equal (a writer whose transaction began at the first enqueue: the enqueue keeps the greater time)
# or earlier (one that began before it). Only the row's version tells the last two from what the tick read.
ENQUEUED = ("later", "equal", "earlier")


@dataclass(frozen=True)
class Ask:
    """A `[cover]` key: how many of a fault a run must contain by construction, held to a coverage count."""

    key: str  # the [cover] key
    count: str  # the coverage count it is held to ("late_commits.past": a part of a count)
    what: str  # what is counted, for "2 of 3 …"
    expect: str  # the expectation, "{n}" the number asked for
    hi: int = 100
    since: bool = False  # added after scenario digests were first recorded (rendered only when asked for)


@dataclass(frozen=True)
class Count:
    """A count coverage reads back from the history (bench/judge/coverage.py carries out the rule)."""

    key: str  # its name in the verdict's coverage
    rule: str  # late | held | held_raced | ok (successful ops named `arg`) | timeouts | pauses | enqueued
    arg: str = ""


@dataclass(frozen=True)
class Fault:
    name: str  # its kind in the schedule
    rate: str  # its [faults] key: how many a simulated day (a Poisson process)
    summary: str
    asks: tuple[Ask, ...] = ()
    counts: tuple[Count, ...] = ()
    conn: str | None = None  # the pooled connection its own tick or backfill runs on
    ticks: bool = False  # runs a tick of its own: none while the scheduler is paused
    tick_after: int = 0  # its tick comes this long after it strikes (a pause must not swallow that either)
    since: bool = False  # its rate was added after scenario digests were first recorded


REGISTRY: tuple[Fault, ...] = (  # in this order: the schedule sorts simultaneous faults by it
    Fault("late", "late_commits", "a task and its usage written in a transaction that commits (or rolls back) "
          "late", asks=(Ask("late_commits", "late_commits.within", "late commit(s) within the allowance",
                            "≥ {n} late commit(s) within the allowance"),
                        Ask("late_commits_past", "late_commits.past", "late commit(s) past the allowance",
                            "≥ {n} past it")),
          counts=(Count("late_commits", "late"),)),
    Fault("cancel", "cancels", "a tick held at a waitpoint, then cancelled, terminated or timed out",
          counts=(Count("cancels", "ok", "cancel"), Count("timeouts", "timeouts")), conn=NEMESIS_CONN, ticks=True),
    Fault("race", "races", "a tick held between its read and its write while writers touch the keys it read",
          counts=(Count("races", "held"),), conn=RACE_CONN, ticks=True),
    Fault("restart", "restarts", "the server restarts: every session and held transaction ends",
          counts=(Count("restarts", "ok", "restart"),)),
    Fault("backfill", "backfills", "the standalone backfill, between the writes, late transactions open",
          counts=(Count("backfills", "ok", "backfill"),), conn="backfill"),
    Fault("pause", "pauses", "the scheduler stops ticking; a pause swallows the checks it spans",
          counts=(Count("pauses", "pauses", "short"),)),
    Fault("long_pause", "long_pauses", "a pause past the dirty queue's retention, placed early enough for the "
          "ticks to catch up before the last check (B5's ground); one a run",
          asks=(Ask("long_pauses", "long_pauses", "long pause(s)", "≥ {n} long pause(s)", hi=1),),
          counts=(Count("long_pauses", "pauses", "long"),), since=True),
    Fault("lock_wait", "lock_waits", "a tick whose upsert waits out lock_timeout on rollup rows a writer holds: "
          "it fails with an error its handler can record (B8's ground)", conn=NEMESIS_CONN, ticks=True,
          tick_after=LOCK_WAIT_AFTER, since=True),
    Fault("requeue", "requeues", "a tick held at its upsert while a writer re-enqueues keys it read from the "
          "queue (a drain must keep them)",
          asks=(Ask("requeues", "requeues", "requeue(s) racing a held tick", "≥ {n} requeue(s)"),
                Ask("requeues_equal", "requeued.equal", "requeue(s) with the enqueued_at the tick read",
                    "≥ {n} with an equal enqueued_at", since=True),
                Ask("requeues_earlier", "requeued.earlier", "requeue(s) dated before the enqueue the tick read",
                    "≥ {n} with an earlier one", since=True)),
          counts=(Count("requeues", "held_raced"), Count("requeued", "enqueued")),
          conn=REQUEUE_CONN, ticks=True, tick_after=LOCK_WAIT_AFTER, since=True),
)

BY_NAME: dict[str, Fault] = {f.name: f for f in REGISTRY}
KINDS: tuple[str, ...] = tuple(BY_NAME)
ASKS: dict[str, Ask] = {a.key: a for f in REGISTRY for a in f.asks}
COUNTS: tuple[Count, ...] = tuple(c for f in REGISTRY for c in f.counts)
TICKING: frozenset[str] = frozenset(f.name for f in REGISTRY if f.ticks)  # none while the scheduler is paused


def swarm(seed: int, rates: dict[str, float]) -> dict[str, float]:
    """A seed's own mix of the faults a scenario gives rates (swarm testing): each kind on or off by a coin, and
    when on, its rate scaled by a log-uniform factor in [¼, 4]; one stays on at least. From a stream of its own,
    so the same seed draws the same mix."""
    rng = random.Random(f"{seed}:swarm")
    given = [k for k in KINDS if rates.get(k, 0) > 0]
    drawn = {k: rates[k] * 2 ** rng.uniform(-2, 2) if rng.random() < 0.5 else 0.0 for k in given}
    if given and not any(drawn.values()):
        keep = rng.choice(given)
        drawn[keep] = rates[keep]
    return {k: round(drawn.get(k, 0.0), 3) for k in KINDS}

