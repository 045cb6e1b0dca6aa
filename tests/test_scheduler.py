"""The application's tick scheduler in simulated time (pipeline.md §7): plans, replicas, pauses, retries.

Replica phases are fixed by the seed: with seed 0 a single replica polls at :27.670 and :57.670 of every
minute; with three replicas the phases are 27.670 s, 12.623 s and 24.836 s (replica 1 polls first after every
5-minute edge). B5 and L1 reproduce here through the scheduler.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rollup.pipeline import Pipeline
from rollup.scheduler import Scheduler, plan_of
from tests.conftest import START
from tests.helpers import World, buckets, raw_buckets, wait_released

MIN = timedelta(minutes=1)
PHASE_1 = timedelta(seconds=27, milliseconds=670)  # seed 0, one replica
PHASES_3 = (timedelta(seconds=27, milliseconds=670), timedelta(seconds=12, milliseconds=623),
            timedelta(seconds=24, milliseconds=836))  # seed 0, three replicas
BIG = 5 * 10**18  # two of these in one bucket overflow the rollup's bigint: the window fails


def M(minutes: float) -> datetime:
    """START (12:00Z) plus `minutes`."""
    return START + timedelta(minutes=minutes)


def summary(runs) -> list[tuple]:
    return [(r.plan, r.at, r.replica, r.attempt, r.rows, r.ok) for r in runs]


@pytest.fixture
def scheduler(db):
    made = []

    def make(**kwargs) -> Scheduler:
        made.append(Scheduler(db, **kwargs))
        return made[-1]

    yield make
    for s in made:
        s.close()


# ------------------------------------------------------------------------------------------------ plan_of


@pytest.mark.parametrize("poll, plan", [
    (datetime(2026, 3, 1, 12, 5, tzinfo=UTC), datetime(2026, 3, 1, 12, 0, tzinfo=UTC)),
    (datetime(2026, 3, 1, 12, 7, 30, 500000, tzinfo=UTC), datetime(2026, 3, 1, 12, 0, tzinfo=UTC)),
    (datetime(2026, 3, 1, 12, 9, 59, 999999, tzinfo=UTC), datetime(2026, 3, 1, 12, 0, tzinfo=UTC)),
    (datetime(2026, 3, 1, 12, 10, tzinfo=UTC), datetime(2026, 3, 1, 12, 5, tzinfo=UTC)),
    (datetime(2026, 3, 1, 12, 4, 59, tzinfo=UTC), datetime(2026, 3, 1, 11, 55, tzinfo=UTC)),
    (datetime(2026, 3, 1, 0, 2, tzinfo=UTC), datetime(2026, 2, 28, 23, 55, tzinfo=UTC)),  # across the month
    (datetime(2027, 1, 1, 0, 4, 59, tzinfo=UTC), datetime(2026, 12, 31, 23, 55, tzinfo=UTC)),  # and the year
])
def test_plan_of_is_five_minutes_back_floored_to_five_minutes(poll, plan):
    assert plan_of(poll) == plan


# ------------------------------------------------------------------------------------------ cadence


def test_one_run_per_plan_over_thirty_minutes(db, scheduler):
    w = World(db)
    t = w.task()
    w.usage(t, M(-10), input=100)
    w.usage(t, M(7), input=7, model="claude-haiku")  # visible to the first tick whose window passes 12:07
    s = scheduler(replicas=1, seed=0)
    runs = s.run_until(M(30))
    plans = [M(m) for m in (0, 5, 10, 15, 20)]  # 12:25 falls due at 12:30, first polled at 12:30:27.670
    assert summary(runs) == [(p, p + 5 * MIN + PHASE_1, 0, 1, rows, True) for p, rows in zip(plans, [1, 0, 1, 0, 0])]
    assert all(r.at >= r.plan + 5 * MIN for r in runs)
    assert s.history == runs and db.clock.now == M(30)
    state = Pipeline(db).state()
    assert state.watermark_at == runs[-1].at - 5 * MIN and state.last_run_started_at == runs[-1].at
    assert buckets(db) == raw_buckets(db) == {(M(-60), w.r1, w.a1, w.p1): 100, (M(0), w.r1, w.a1, w.p1): 7}


def test_three_replicas_still_one_run_per_plan(db, scheduler):
    w = World(db)
    for i in range(6):
        w.usage(w.task(), M(-50 + 10 * i), input=i + 1)  # 11:10 .. 12:00
    s = scheduler(replicas=3, seed=0)
    first = s.run_until(M(30))
    second = s.run_until(M(60))  # carries on where the first call stopped: no plan twice, none skipped
    runs = first + second
    plans = [M(5 * k) for k in range(11)]  # 12:00 .. 12:50
    assert [r.plan for r in runs] == plans and len(first) == 5
    assert [(r.at, r.replica, r.attempt, r.ok) for r in runs] == [(p + 5 * MIN + PHASES_3[1], 1, 1, True)
                                                                  for p in plans]
    assert [r.rows for r in runs] == [2] + [0] * 10  # the 11:00 and 12:00 buckets, both in the first
    assert buckets(db) == raw_buckets(db) == {(M(-60), w.r1, w.a1, w.p1): 15, (M(0), w.r1, w.a1, w.p1): 6}


def test_pause_skips_the_plans_in_between(db, scheduler):
    s = scheduler(replicas=1, seed=0)
    s.pause(M(20))
    runs = s.run_until(M(30))
    # Nothing polls before 12:20; the first poll after it runs the plan then due (12:15), not the missed ones.
    assert summary(runs) == [(M(15), M(20) + PHASE_1, 0, 1, 0, True), (M(20), M(25) + PHASE_1, 0, 1, 0, True)]


def test_B5_pause_longer_than_retention_prunes_unprocessed_invalidations(db, scheduler):
    w = World(db)
    w.usage(w.task(), M(-10), input=100)
    s = scheduler(replicas=1, seed=0)
    assert [r.rows for r in s.run_until(M(6))] == [1]
    assert buckets(db) == {(M(-60), w.r1, w.a1, w.p1): 100}
    resume = START + timedelta(days=10)
    s.pause(resume)
    # Two days into the pause the issue moves to another project: two keys are enqueued (old and new project).
    w.sql("UPDATE issue SET project_id = %s WHERE id = %s", (w.p2, w.i1), at=START + timedelta(days=2))
    p = Pipeline(db)
    assert p.dirty_count() == 2
    runs = s.run_until(resume + 60 * MIN)
    assert [r.at for r in runs] == [resume + 5 * k * MIN + PHASE_1 for k in range(12)]
    assert runs[0].plan == resume - 5 * MIN
    assert [r.rows for r in runs] == [0] * 12 and all(r.ok for r in runs)
    # The first tick only reached 12:00 on day 1 (one day per tick), then pruned everything older than
    # 7 days, including the two rows no window had reached: the queue is empty and the move is lost.
    assert p.dirty_count() == 0
    assert p.state().watermark_at == runs[-1].at - 5 * MIN  # caught up, one day per tick
    assert raw_buckets(db) == {(M(-60), w.r1, w.a1, w.p2): 100}
    assert buckets(db) == {(M(-60), w.r1, w.a1, w.p1): 100}
    p.close()


def test_B5_same_move_without_the_pause_converges(db, scheduler):
    """The counterpart: ticking through, the same invalidation is processed."""
    w = World(db)
    w.usage(w.task(), M(-10), input=100)
    s = scheduler(replicas=1, seed=0)
    s.run_until(M(6))
    w.sql("UPDATE issue SET project_id = %s WHERE id = %s", (w.p2, w.i1), at=M(7))
    assert [r.rows for r in s.run_until(M(20))] == [0, 2]  # the 12:10 plan moves it (upsert + delete)
    assert buckets(db) == raw_buckets(db) == {(M(-60), w.r1, w.a1, w.p2): 100}


# ------------------------------------------------------------------------------------- failures and retries


def test_failed_runs_are_retried_after_1_and_5_minutes_three_attempts_in_all(db, scheduler):
    w = World(db)
    ok_task, big1, big2 = w.task(), w.task(agent=w.a2), w.task(agent=w.a2)
    w.usage(ok_task, M(-30), input=10)
    w.usage(big1, M(-10), input=BIG)
    w.usage(big2, M(-9), input=BIG)  # same key as big1's row: the bucket's sum overflows bigint
    s = scheduler(replicas=1, seed=0)
    runs = s.run_until(M(12))
    at = [p + PHASE_1 for p in (M(5), M(6), M(10), M(11), M(11))]
    assert [(r.plan, r.at, r.attempt, r.ok) for r in runs] == [
        (M(0), at[0], 1, False), (M(0), at[1], 2, False),
        (M(5), at[2], 1, False),
        (M(5), at[3], 2, False), (M(0), at[4], 3, False),  # same instant: the lower attempt first
    ]
    assert all("NumericValueOutOfRange" in r.error and "bigint out of range" in r.error for r in runs)
    state = Pipeline(db).state()
    assert state.last_error is None and state.last_run_finished_at is None  # B8: the handler's write is lost
    assert not s.pipelines[0].holds_tick_lock()  # WHEN OTHERS released the lock: no leak on a plain error
    w.sql("DELETE FROM task_usage WHERE task_id = %s", (big2,), at=M(12))  # enqueues the key at 12:12
    runs = s.run_until(M(30))
    assert [(r.plan, r.at, r.attempt, r.rows) for r in runs] == [
        (M(10), M(15) + PHASE_1, 1, 2),
        (M(5), M(16) + PHASE_1, 3, 0),  # the 12:00 plan got no fourth attempt
        (M(15), M(20) + PHASE_1, 1, 1),  # the window that passes 12:12 rebuilds the dirty key
        (M(20), M(25) + PHASE_1, 1, 0),
    ]
    assert len([r for r in s.history if r.plan == M(0)]) == 3
    assert buckets(db) == raw_buckets(db) == {(M(-60), w.r1, w.a1, w.p1): 10, (M(-60), w.r1, w.a2, w.p1): BIG}


def test_run_timeout_cancels_a_blocked_tick_retries_it_and_the_leaked_lock_starves_other_replicas(db, scheduler):
    w = World(db)
    w.usage(w.task(), M(-10), input=100)
    w.usage(w.task(agent=w.a2), M(8), input=7)  # pending work for every tick whose window passes 12:08
    s = scheduler(replicas=3, seed=0, run_timeout=0.3)
    s.pause(M(5) + timedelta(seconds=13))  # so replica 2 (phase 24.836 s) polls first, not replica 1
    blocker = db.connect(autocommit=False)
    blocker.execute("SELECT 1 FROM task_usage_hourly_rollup_state WHERE id = 1 FOR UPDATE")
    try:
        blocked = s.run_until(M(11))
    finally:
        blocker.rollback()
        blocker.close()
    r1, r2 = PHASES_3[1], PHASES_3[2]
    assert summary(blocked) == [
        (M(0), M(5) + r2, 2, 1, None, False),  # cancelled after the run timeout
        (M(0), M(6) + r2, 2, 2, None, False),  # retried 1 minute later, on the same pooled connection
        (M(5), M(10) + r1, 1, 1, 0, True),  # another replica: lock 4246 is held by replica 2's session
    ]
    assert all(r.error.startswith("QueryCanceled") for r in blocked if not r.ok)
    assert s.pipelines[2].holds_tick_lock() and not s.pipelines[1].holds_tick_lock()
    s.run_timeout = 25 * 60  # back to the default: nothing blocks from here, no fuse to race a loaded machine
    runs = s.run_until(M(30))
    assert summary(runs) == [
        (M(0), M(11) + r2, 2, 3, 1, True),  # third attempt, 5 minutes later: re-enters the leaked lock
        (M(10), M(15) + r1, 1, 1, 0, True),
        (M(15), M(20) + r1, 1, 1, 0, True),
        (M(20), M(25) + r1, 1, 1, 0, True),
    ]
    p = Pipeline(db)
    assert p.state().watermark_at == M(6) + r2  # only replica 2's own tick got through
    assert s.pipelines[2].holds_tick_lock()  # still leaked: the re-entrant tick released only its own hold
    truth = {(M(-60), w.r1, w.a1, w.p1): 100, (M(0), w.r1, w.a2, w.p1): 7}
    assert raw_buckets(db) == truth
    assert buckets(db) == {(M(-60), w.r1, w.a1, w.p1): 100}  # 12:08 is pending, and every winner returns 0
    s.pipelines[2].close()  # only ending that session frees the rollup
    wait_released(db)
    assert [r.rows for r in s.run_until(M(36))] == [1, 0]
    assert buckets(db) == truth
    p.close()


def test_a_paused_scheduler_does_not_retry_either(db, scheduler):
    w = World(db)
    big_task = w.task()
    w.usage(big_task, M(-10), input=BIG)
    w.usage(w.task(), M(-9), input=BIG)  # another task, same key: the bucket's sum overflows
    s = scheduler(replicas=1, seed=0)
    assert [(r.plan, r.attempt, r.ok) for r in s.run_until(M(6))] == [(M(0), 1, False)]
    s.pause(M(20))  # the worker stops before the retry due at 12:06:27.670
    runs = s.run_until(M(26))
    assert all(r.at >= M(20) for r in runs)
    assert [(r.plan, r.at, r.attempt, r.ok) for r in runs] == [
        (M(0), M(20), 2, False),  # the retry waits for the worker to resume
        (M(15), M(20) + PHASE_1, 1, False),
        (M(15), M(21) + PHASE_1, 2, False),
        (M(0), M(25), 3, False), (M(20), M(25) + PHASE_1, 1, False),
    ]
