"""The reference must keep upstream's flaws: the bench proves bugs on it. L1 and B12 reproduce here."""

from __future__ import annotations

import psycopg
import pytest

from bench.drive.nemesis import Nemesis
from rollup.pipeline import Pipeline
from tests.helpers import World, buckets, raw_buckets, wait_released
from tests.test_pipeline import H


def _cancel_tick(db, pipeline, how: str) -> None:
    """Start a tick that blocks on the state row (locked by another session) and cancel it `how`."""
    blocker = db.connect(autocommit=False)
    blocker.execute("SELECT 1 FROM task_usage_hourly_rollup_state WHERE id = 1 FOR UPDATE")
    try:
        if how == "client cancel":  # the client's run timeout: it cancels once the tick waits on the lock
            with pytest.raises(psycopg.errors.QueryCanceled):
                pipeline.tick(at=H(12), cancel_after=0.1)
        elif how == "statement_timeout":
            pipeline.conn.execute("SET statement_timeout = '300ms'")
            with pytest.raises(psycopg.errors.QueryCanceled):
                pipeline.tick(at=H(12))
            pipeline.conn.execute("RESET statement_timeout")
        else:  # pg_cancel_backend from another session, as an operator would, once the tick waits on the lock
            nemesis = Nemesis(db)
            nemesis.start("tick", pipeline.conn, lambda: pipeline.tick(at=H(12)))
            nemesis.wait_blocked("tick")
            assert nemesis.signal("tick", "cancel")
            with pytest.raises(psycopg.errors.QueryCanceled):
                nemesis.wait("tick")
    finally:
        blocker.rollback()
        blocker.close()


@pytest.mark.parametrize("how", ["client cancel", "statement_timeout", "pg_cancel_backend"])
def test_L1_cancelled_tick_leaks_session_lock_and_later_ticks_return_zero(db, pipeline, how):
    w = World(db)
    w.usage(w.task(), H(10, 10), input=100)
    watermark = pipeline.state().watermark_at
    _cancel_tick(db, pipeline, how)
    assert pipeline.holds_tick_lock()  # survived the rollback: WHEN OTHERS does not catch query_canceled
    pooled = Pipeline(db)  # the pool's other connections (and other replicas) are locked out
    assert [pooled.tick(at=H(12, m)) for m in (5, 10, 15)] == [0, 0, 0]
    assert pipeline.state().watermark_at == watermark
    assert buckets(db) == {} and raw_buckets(db) == {(H(10), w.r1, w.a1, w.p1): 100}  # work is pending
    # Advisory locks are re-entrant: only a tick that lands on the leaking connection itself gets through,
    # and it leaves the leaked hold in place.
    assert pipeline.tick(at=H(12, 20)) == 1
    assert pipeline.holds_tick_lock()
    w.usage(w.task(), H(12, 21), input=7)
    assert pooled.tick(at=H(12, 30)) == 0
    pipeline.close()  # only ending that session frees the rollup
    wait_released(db)
    assert pooled.tick(at=H(12, 35)) == 1
    assert buckets(db) == raw_buckets(db)
    pooled.close()


def test_B12_changing_agent_id_leaves_old_bucket_stale(db, pipeline):
    w = World(db)
    t = w.task(agent=None)
    w.usage(t, H(10, 10), input=100)
    pipeline.tick(at=H(12))
    w.sql("UPDATE agent_task_queue SET agent_id = %s WHERE id = %s", (w.a2, t), at=H(12, 1))
    pipeline.tick(at=H(12, 10))
    pipeline.tick(at=H(13))
    assert raw_buckets(db) == {(H(10), w.r1, w.a2, w.p1): 100}
    assert buckets(db) == {(H(10), w.r1, w.a1, w.p1): 100}  # the old agent's bucket rots; the new one is missing
    assert pipeline.dirty_count() == 0  # nothing was ever enqueued
