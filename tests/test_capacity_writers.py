"""Sweep (e), writer cost: the figures' shape, that each trigger state is what it claims, and the open loop's
latency accounting. No wall-clock assertions: timing only ever has to be finite and positive."""

from __future__ import annotations

import math

import pytest

from bench.capacity.writers import (
    KINDS,
    MAX_TRANSIENT_IN_A_ROW,
    START,
    STATES,
    TickLoop,
    WriterSweep,
    apply,
    drive,
    measure_writers,
    open_state,
    plan,
    step_count,
    templates,
    time_ops,
    trigger_names,
    zipf_cum_weights,
)
from rollup.database import Database

TINY = WriterSweep(ops=20, warmup=2, repetitions=1, concurrency=(1, 2), concurrent_seconds=0.5)
N = TINY.ops + TINY.warmup
PIPELINE_TRIGGERS = {"trg_atq_dirty_hourly", "trg_issue_delete_dirty_hourly", "trg_issue_project_dirty_hourly",
                     "trg_task_usage_delete_dirty_hourly"}


@pytest.fixture(scope="module")
def world(server):
    with templates(server, "reference", seed=1, ops=N) as made:
        yield made


def dirty(conn) -> int:
    return conn.execute("SELECT count(*) FROM task_usage_hourly_dirty").fetchone()[0]


def test_every_kind_and_state_has_finite_positive_figures(server):
    steps = []
    result = measure_writers(server, "reference", TINY, on_step=steps.append)
    assert set(result) == {"ops", "concurrency", "tick_loop"}
    assert result["tick_loop"]["ticks"] > 0 and result["tick_loop"]["failed"] == 0, result["tick_loop"]
    assert set(result["ops"]) == set(KINDS)
    for kind, by_state in result["ops"].items():
        assert set(by_state) == set(STATES), kind
        for fig in by_state.values():
            assert set(fig) == {"median_us", "min_us", "max_us", "failures", "first_failure"}
            times = [fig["median_us"], fig["min_us"], fig["max_us"]]
            assert all(math.isfinite(v) and v > 0 for v in times), (kind, fig)
            assert fig["failures"] == 0 or fig["first_failure"], fig  # a count always comes with its error
            assert fig["min_us"] <= fig["median_us"] <= fig["max_us"]
    assert [(c["state"], c["writers"]) for c in result["concurrency"]] == [(s, n) for s in STATES for n in (1, 2)]
    for point in result["concurrency"]:
        assert point["tps"] > 0 and 0 < point["p50_ms"] <= point["p99_ms"], point
    assert len(steps) == step_count(TINY)


def test_each_state_has_the_triggers_it_claims_and_they_take_effect(server, world):
    names, w = world
    delete = plan(w, "usage_delete", N, seed=1)[0]
    for state in STATES:
        with open_state(server, names, state) as h, h.db.connect() as conn:
            triggers = set(trigger_names(conn))
            if state == "absent":
                assert triggers == set()  # neither the pipeline's nor the legacy daily rollups'
            else:
                assert PIPELINE_TRIGGERS <= triggers, state
            if state != "active":  # the tick loop drains the queue under our feet there
                before = dirty(conn)
                apply(conn, "usage_delete", delete)
                assert dirty(conn) == before + (state == "installed"), state


def test_active_ticks_while_writers_write_and_rolls_their_rows_up(server, world):
    names, w = world
    with open_state(server, names, "active") as h, h.db.connect() as conn:
        assert h.ticks.wait(1)  # the loop is running before the first write
        assert h.ticks.rows == 0  # the world is older than every window it has looked at
        assert len(time_ops(conn, "usage_rereport", plan(w, "usage_rereport", N, seed=1), TINY.warmup)) == TINY.ops
        assert h.ticks.wait(h.ticks.ticks + 3)  # windows reaching past the writes' simulated time
        assert h.ticks.rows > 0 and h.ticks.failed == 0
    assert h.ticks.ticks >= 4  # stopped cleanly (stop() re-raises a failed loop)


class FakeTime:
    """perf_counter_ns and sleep over a counter, so scheduling is checked without a real clock."""

    def __init__(self):
        self.ns = 0

    def now(self) -> int:
        return self.ns

    def sleep(self, seconds: float) -> None:
        self.ns += round(seconds * 1e9)

    def op(self, ms: float):
        def run() -> None:
            self.ns += int(ms * 1e6)
        return run


def test_open_loop_latency_counts_from_the_due_time():
    # Due every 5 ms, each op takes 10 ms: op i is due at 5i ms but can only start at 10i ms.
    t, latencies = FakeTime(), []
    start, end, ops = drive(t.op(10), 0.1, 200.0, latencies.append, t.now, t.sleep)
    assert ops == 20  # every op due before the 100 ms end ran, late ones too
    assert latencies == [10_000_000 + 5_000_000 * i for i in range(20)]
    assert (start, end) == (0, 200_000_000)


def test_open_loop_waits_for_the_due_time_when_ahead():
    t, latencies = FakeTime(), []
    _, end, ops = drive(t.op(1), 0.1, 100.0, latencies.append, t.now, t.sleep)
    assert ops == 10 and latencies == [1_000_000] * 10 and end == 91_000_000


def test_closed_loop_latency_counts_from_the_start():
    t, latencies = FakeTime(), []
    _, _, ops = drive(t.op(10), 0.1, None, latencies.append, t.now, t.sleep)
    assert ops == 10 and latencies == [10_000_000] * 10


def test_zipf_weights_favour_the_first_keys():
    cum = zipf_cum_weights(64, 1.1)
    shares = [b - a for a, b in zip([0.0, *cum], cum)]
    assert len(cum) == 64 and shares == sorted(shares, reverse=True) and shares[0] / cum[-1] > 0.2


def test_a_transient_failure_is_counted_not_fatal_and_other_errors_still_raise(server, world):
    names, w = world
    with open_state(server, names, "installed") as h, h.db.connect() as conn:
        conn.execute("CREATE FUNCTION bench_deadlock() RETURNS trigger LANGUAGE plpgsql AS"
                     " $$ BEGIN RAISE EXCEPTION 'simulated' USING ERRCODE = '40P01'; END $$")
        conn.execute("CREATE TRIGGER bench_deadlock BEFORE DELETE ON task_usage"
                     " FOR EACH ROW EXECUTE FUNCTION bench_deadlock()")
        deletes = plan(w, "usage_delete", N, seed=2)[:3]
        failures: list[str] = []
        assert time_ops(conn, "usage_delete", deletes, warmup=0, failures=failures) == []
        assert len(failures) == 3 and failures[0].startswith("DeadlockDetected: simulated")
        with pytest.raises(Exception, match="simulated"):
            time_ops(conn, "usage_delete", deletes, warmup=0)  # without a list to count in, it raises


def failing_ticks(conn, updates: int) -> None:
    """The tick's first `updates` updates of its state row raise a deadlock: a test-only trigger on this copy,
    counting in a sequence (which a rollback does not undo)."""
    conn.execute("CREATE SEQUENCE bench_fail")
    conn.execute("CREATE FUNCTION bench_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                 f" IF nextval('bench_fail') <= {updates} THEN"
                 " RAISE EXCEPTION 'simulated' USING ERRCODE = '40P01'; END IF; RETURN NEW; END $$")
    conn.execute("CREATE TRIGGER bench_fail BEFORE UPDATE ON task_usage_hourly_rollup_state"
                 " FOR EACH ROW EXECUTE FUNCTION bench_fail()")


@pytest.mark.parametrize("updates", [4, 10_000])
def test_a_tick_that_deadlocks_is_counted_and_the_loop_goes_on_until_it_only_fails(server, world, updates):
    names, _ = world
    db = Database(server, START, template=names["installed"], file_copy=True)
    try:
        with db.connect() as conn:
            failing_ticks(conn, updates)
        loop = TickLoop(db).start()
        if updates == 4:  # the first two ticks fail (each raises twice: its update, then its handler's)
            assert loop.wait(5, timeout=300)  # a hang guard only: the loop's pace is not judged
            loop.stop()
            summary = loop.summary()
            assert summary["failed"] == 2 and summary["ticks"] >= 5, summary
            assert summary["first_failure"].startswith("DeadlockDetected: simulated")
        else:
            # It stopped by itself: waited for as long as a loaded machine needs (a hang guard, not a pace).
            assert not loop.wait(MAX_TRANSIENT_IN_A_ROW + 1, timeout=300)
            with pytest.raises(RuntimeError, match="tick loop failed after .*DeadlockDetected: simulated"):
                loop.stop()
    finally:
        db.drop()
