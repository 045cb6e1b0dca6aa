"""The hardened target (reference + migrations/hardened): every known divergence of invariants.md converges.

Each reproduction runs on the hardened target and asserts convergence with the raw tables (hour grain, every
column, and the quarter-hour table against its own truth). Where it is cheap the same test also runs on the
reference and asserts the documented divergence, which proves the reproduction can fail.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from bench.workload import app
from rollup import clock
from rollup.backfill import backfill, pre_103_hook
from rollup.database import Database
from rollup.migrations import Runner, Target
from rollup.pipeline import Pipeline
from tests.conftest import START
from tests.helpers import World, buckets, concurrent_ticks, raw_buckets
from tests.test_faithfulness import _cancel_tick
from tests.test_pipeline import H

BOTH = ["reference", "hardened"]
MIN = timedelta(minutes=1)
BIG = 5 * 10**18  # two of these in one bucket overflow the rollup's bigint sums: the window fails


# ------------------------------------------------------------------------------------------------ fixtures


@pytest.fixture
def target() -> str:
    """The target a test runs on; `@pytest.mark.parametrize("target", BOTH)` runs it on both."""
    return "hardened"


@pytest.fixture
def db(request, server, target):
    """A fresh copy of the target's template (overrides conftest's `db`, so `pipeline` and `conn` follow)."""
    template = request.getfixturevalue(f"{target}_template")
    with Database(server, START, template=template) as database:
        yield database


# ------------------------------------------------------------------------------------------- truth readers

KEY_COLUMNS = "workspace_id, runtime_id, agent_id, project_id, provider, model"
VALUE_COLUMNS = "input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, task_count, event_count"

# The truth per bucket from the raw tables, the bucket start given by `bucket` (written independently of the
# target's own bucket functions).
FULL_TRUTH_SQL = """
SELECT {bucket}, a.workspace_id, t.runtime_id, t.agent_id, i.project_id, tu.provider, tu.model,
       sum(tu.input_tokens), sum(tu.output_tokens), sum(tu.cache_read_tokens), sum(tu.cache_write_tokens),
       count(DISTINCT tu.task_id), count(*)
  FROM task_usage tu
  JOIN agent_task_queue t ON t.id = tu.task_id
  JOIN agent a ON a.id = t.agent_id
  LEFT JOIN issue i ON i.id = t.issue_id
 WHERE t.runtime_id IS NOT NULL
 GROUP BY 1, 2, 3, 4, 5, 6, 7
"""
HOUR = "date_trunc('hour', tu.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
QUARTER = "to_timestamp(floor(extract(epoch FROM tu.created_at) / 900)::float8 * 900)"


def _keyed(db: Database, query: str) -> dict[tuple, tuple]:
    with db.connect() as c:
        return {tuple(r[:7]): tuple(r[7:]) for r in c.execute(query)}


def hourly_full(db: Database) -> dict[tuple, tuple]:
    return _keyed(db, f"SELECT bucket_hour, {KEY_COLUMNS}, {VALUE_COLUMNS} FROM task_usage_hourly")


def quarter_full(db: Database) -> dict[tuple, tuple]:
    return _keyed(db, f"SELECT bucket_start, {KEY_COLUMNS}, {VALUE_COLUMNS} FROM task_usage_quarter_hourly")


def hourly_truth(db: Database) -> dict[tuple, tuple]:
    return _keyed(db, FULL_TRUTH_SQL.format(bucket=HOUR))


def quarter_truth(db: Database) -> dict[tuple, tuple]:
    return _keyed(db, FULL_TRUTH_SQL.format(bucket=QUARTER))


def by_model(rows: dict[tuple, tuple]) -> dict[tuple, int]:
    """(bucket, agent, project, model) -> input_tokens: the view that tells models apart."""
    return {(k[0], k[3], k[4], k[6]): v[0] for k, v in rows.items()}


def short_view(db: Database) -> dict[tuple, int]:
    """`buckets` summed over provider and model, as `raw_buckets` groups (equal to `buckets` when each
    (hour, runtime, agent, project) holds a single provider and model, as in most tests)."""
    view: dict[tuple, int] = {}
    for k, v in hourly_full(db).items():
        short = (k[0], k[2], k[3], k[4])
        view[short] = view.get(short, 0) + v[0]
    return view


def assert_converged(db: Database) -> None:
    """The rollup equals the raw tables: the short view, every hourly column, and the quarter-hour table."""
    view, truth = short_view(db), raw_buckets(db)
    assert view == truth
    if len(view) == len(hourly_full(db)):  # one provider and model per short key: the plain helpers agree
        assert buckets(db) == truth
    assert hourly_full(db) == hourly_truth(db)
    assert quarter_full(db) == quarter_truth(db)


def wait_until_blocked(db: Database, pid: int, deadline: float = 10.0) -> None:
    """Wait until backend `pid` waits on a lock (a heavyweight lock: a row, a transaction, an advisory key)."""
    end = time.monotonic() + deadline
    with db.connect() as c:
        while c.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()[0] != "Lock":
            assert time.monotonic() < end, f"backend {pid} never blocked on a lock"
            time.sleep(0.01)


def no_wait_connection(db: Database) -> psycopg.Connection:
    """A connection that gives up after 5 s on a lock instead of hanging the test."""
    return db.connect(options="-c lock_timeout=5000")


# ---------------------------------------------------------------------------------------------- the target


def test_hardened_migrations_read_only_the_simulated_clock():
    assert clock.scan(Target.resolve("hardened").sql_files()) == []
    numbers = [m.number for m in Target.resolve("hardened").migrations()]
    assert numbers[-10:] == [str(n) for n in range(105, 115)]


def test_hardened_state_has_a_snapshot_baseline_and_the_window_keeps_two_arguments(db, pipeline):
    with db.connect() as c:
        assert c.execute("SELECT last_snapshot IS NOT NULL FROM task_usage_hourly_rollup_state").fetchone()[0]
    assert pipeline.window(H(0), H(12)) == 0  # the two-argument call the backfill makes still resolves


def test_the_window_runs_without_jit(db):
    # 114: on a server built with LLVM the window compiled its plan on every tick (see the migration); a function's
    # own setting holds whatever the server's or the session's is.
    with db.connect() as c:
        config = c.execute("SELECT proconfig FROM pg_proc WHERE proname = 'rollup_task_usage_hourly_window'").fetchone()[0]
    assert config == ["jit=off"]


def test_usage_writes_stamp_their_transaction_id(db):
    w = World(db)
    t = w.task()
    with db.connect() as c, db.clock.transaction(c, H(10)):
        app.upsert_usage(c, app.Usage(t, "anthropic", "claude-sonnet", 1))
        first = c.execute("SELECT pg_current_xact_id()").fetchone()[0]
    with db.connect() as c, db.clock.transaction(c, H(10, 5)):
        c.execute("UPDATE task_usage SET input_tokens = 2 WHERE task_id = %s", (t,))  # no updated_at bump
        second = c.execute("SELECT pg_current_xact_id()").fetchone()[0]
    with db.connect() as c:
        assert c.execute("SELECT changed_xid FROM task_usage WHERE task_id = %s", (t,)).fetchone()[0] == second
    assert second != first


# -------------------------------------------------------------------------------------------------------- L1


@pytest.mark.parametrize("how", ["client cancel", "statement_timeout", "pg_cancel_backend"])
@pytest.mark.parametrize("target", BOTH)
def test_L1_cancelled_tick_leaves_no_lock_behind(db, pipeline, target, how):
    w = World(db)
    w.usage(w.task(), H(10, 10), input=100)
    _cancel_tick(db, pipeline, how)
    pooled = Pipeline(db)  # another pooled connection, or another replica
    try:
        if target == "reference":
            assert pipeline.holds_tick_lock()  # leaked: every other connection's tick returns 0
            assert pooled.tick(at=H(12, 5)) == 0
            assert buckets(db) == {}
            return
        assert not pipeline.holds_tick_lock()  # the transaction-scoped lock went with the cancelled transaction
        assert pooled.tick(at=H(12, 5)) == 1
        assert pipeline.tick(at=H(12, 10)) == 0  # the cancelled connection ticks normally too
        assert not pipeline.holds_tick_lock() and not pooled.holds_tick_lock()
        assert pipeline.state().watermark_at == H(12, 5)
        assert_converged(db)
    finally:
        pooled.close()


# -------------------------------------------------------------------------------------------------------- B1


@pytest.mark.parametrize("target", BOTH)
def test_B1_agent_delete_clears_its_buckets(db, pipeline, target):
    w = World(db)
    w.usage(w.task(agent=w.a2), H(10, 10), input=100)
    w.usage(w.task(agent=w.a2, issue=None), H(10, 20), input=7)
    w.usage(w.task(), H(10, 30), input=5)
    pipeline.tick(at=H(12))
    w.sql("DELETE FROM agent WHERE id = %s", (w.a2,), at=H(12, 1))
    for at in (H(12, 10), H(13)):
        pipeline.tick(at=at)
    assert raw_buckets(db) == {(H(10), w.r1, w.a1, w.p1): 5}
    if target == "reference":  # nothing was enqueued; the deleted agent's buckets stay forever
        assert buckets(db) == {(H(10), w.r1, w.a1, w.p1): 5, (H(10), w.r1, w.a2, w.p1): 100,
                               (H(10), w.r1, w.a2, None): 7}
        assert pipeline.dirty_count() == 0
        return
    assert_converged(db)


def test_B1_workspace_delete_cascading_through_agents_clears_their_buckets(db, pipeline):
    w, other = World(db), World(db)
    w.usage(w.task(), H(10, 10), input=100)
    w.usage(w.task(agent=w.a2, issue=None), H(10, 20), input=7)
    other.usage(other.task(), H(10, 30), input=5)
    pipeline.tick(at=H(12))
    w.sql("DELETE FROM workspace WHERE id = %s", (w.ws,), at=H(12, 1))
    pipeline.tick(at=H(12, 10))
    assert raw_buckets(db) == {(H(10), other.r1, other.a1, other.p1): 5}
    assert_converged(db)


# -------------------------------------------------------------------------------------------------------- B2


@pytest.mark.parametrize("change", ["project change", "issue delete"])
@pytest.mark.parametrize("target", BOTH)
def test_B2_issue_in_another_workspace_than_the_agent(db, pipeline, target, change):
    w = World(db)
    with db.connect() as c:  # the issue and its projects live in workspace B; the agent in w.ws
        ws_b = app.create_workspace(c)
        pb1, pb2 = app.create_project(c, ws_b), app.create_project(c, ws_b)
        issue_b = app.create_issue(c, ws_b, w.user, pb1)
        t = app.create_task(c, w.a1, w.r1, issue_b)
    w.usage(t, H(10, 10), input=100)
    w.usage(w.task(), H(10, 20), input=3)  # an ordinary task beside it
    pipeline.tick(at=H(12))
    assert buckets(db) == {(H(10), w.r1, w.a1, pb1): 100, (H(10), w.r1, w.a1, w.p1): 3}
    if change == "project change":
        w.sql("UPDATE issue SET project_id = %s WHERE id = %s", (pb2, issue_b), at=H(12, 1))
        truth = {(H(10), w.r1, w.a1, pb2): 100, (H(10), w.r1, w.a1, w.p1): 3}
    else:
        w.sql("DELETE FROM issue WHERE id = %s", (issue_b,), at=H(12, 1))
        truth = {(H(10), w.r1, w.a1, w.p1): 3}
    for at in (H(12, 10), H(13)):
        pipeline.tick(at=at)
    assert raw_buckets(db) == truth
    if target == "reference":  # the keys enqueued under workspace B matched no bucket: the old one stays
        assert buckets(db) == {(H(10), w.r1, w.a1, pb1): 100, (H(10), w.r1, w.a1, w.p1): 3}
        return
    assert_converged(db)


# -------------------------------------------------------------------------------------------------------- B3


@pytest.mark.parametrize("queued_before", [False, True], ids=["new queue row", "re-enqueued row"])
@pytest.mark.parametrize("target", BOTH)
def test_B3_invalidation_committed_while_the_window_waits_is_not_drained(db, pipeline, target, queued_before):
    """The window's upsert waits on a row lock held by another session; meanwhile a transaction that began
    before p_to deletes usage of another bucket and commits. With `queued_before`, that bucket already has a
    queue row (enqueued later than the deleting transaction began) which the delete re-enqueues."""
    w = World(db)
    t1, t3a, t3b = w.task(), w.task(agent=w.a2), w.task(agent=w.a2)
    w.usage(t1, H(10, 10), input=100)
    w.usage(t3a, H(10, 20), input=30)
    w.usage(t3b, H(10, 25), input=4)
    pipeline.tick(at=H(12))
    k1, k3 = (H(10), w.r1, w.a1, w.p1), (H(10), w.r1, w.a2, w.p1)
    assert buckets(db) == {k1: 100, k3: 34}
    w.usage(t1, H(12, 1), input=110)  # the next window (11:55 .. 12:05) rebuilds k1 ...
    if queued_before:
        w.sql("DELETE FROM task_usage WHERE task_id = %s", (t3b,), at=H(12, 3))  # k3 queued at 12:03
    blocker = db.connect(autocommit=False)
    blocker.execute("SELECT 1 FROM task_usage_hourly WHERE agent_id = %s FOR UPDATE", (w.a1,))  # ... and waits here
    pid = pipeline.conn.info.backend_pid
    outcome: dict = {}

    def tick():
        try:
            outcome["rows"] = pipeline.tick(at=H(12, 10))
        except psycopg.Error as exc:  # surfaced below
            outcome["error"] = exc

    thread = threading.Thread(target=tick)
    thread.start()
    try:
        wait_until_blocked(db, pid)
        # A transaction that began at 12:02 (before p_to) deletes t3a's usage and commits: k3 is enqueued at
        # 12:02, or, when k3 is already queued at 12:03, its queue row is updated and keeps 12:03.
        with no_wait_connection(db) as c, db.clock.transaction(c, H(12, 2)):
            c.execute("DELETE FROM task_usage WHERE task_id = %s", (t3a,))
    finally:
        blocker.rollback()
        blocker.close()
        thread.join(10)
    assert "error" not in outcome and not thread.is_alive()
    assert outcome["rows"] == (2 if queued_before else 1)  # k1, and k3 when it was queued before the window
    assert raw_buckets(db) == ({k1: 110} if queued_before else {k1: 110, k3: 4})
    if target == "reference":  # the drain's newer snapshot deleted the invalidation unprocessed
        assert pipeline.dirty_count() == 0
        for at in (H(12, 15), H(13)):
            pipeline.tick(at=at)
        assert buckets(db) == {k1: 110, k3: 30 if queued_before else 34}
        return
    assert pipeline.dirty_count() == 1  # survived the drain for the next tick
    assert buckets(db) == {k1: 110, k3: 30 if queued_before else 34}  # this window could not see the delete
    pipeline.tick(at=H(12, 15))
    assert pipeline.dirty_count() == 0
    assert_converged(db)


# -------------------------------------------------------------------------------------------------------- B4


@pytest.mark.parametrize("target", BOTH)
def test_B4_writer_committing_after_the_tick_passed_its_start_is_rolled_up(db, pipeline, target):
    w = World(db)
    t1, t2 = w.task(), w.task(agent=w.a2)
    w.usage(t1, H(11, 50), input=1)
    pipeline.tick(at=H(12))
    writer = db.connect()
    with db.clock.transaction(writer, H(12, 1)):  # begins at 12:01 ...
        app.upsert_usage(writer, app.Usage(t1, "anthropic", "claude-sonnet", 100))  # overwrite: updated_at = 12:01
        app.upsert_usage(writer, app.Usage(t2, "anthropic", "claude-sonnet", 40))  # new row created at 12:01
        assert pipeline.tick(at=H(12, 7)) == 0  # ... a tick moves the watermark to 12:02 without seeing it
        assert pipeline.state().watermark_at == H(12, 2)
    writer.close()  # ... and it commits after the tick
    for at in (H(12, 10), H(12, 15), H(13)):
        pipeline.tick(at=at)
    assert raw_buckets(db) == {(H(11), w.r1, w.a1, w.p1): 100, (H(12), w.r1, w.a2, w.p1): 40}
    if target == "reference":
        assert buckets(db) == {(H(11), w.r1, w.a1, w.p1): 1}  # stale, and the new row never rolled up
        return
    assert_converged(db)


# -------------------------------------------------------------------------------------------------------- B5


@pytest.mark.parametrize("target", BOTH)
def test_B5_pause_longer_than_the_retention_keeps_unprocessed_invalidations(db, pipeline, target):
    w = World(db)
    w.usage(w.task(), H(11, 50), input=100)
    pipeline.tick(at=H(12, 6))
    # Ticking stops. Two days into the pause the issue moves: two keys are enqueued (old and new project).
    w.sql("UPDATE issue SET project_id = %s WHERE id = %s", (w.p2, w.i1), at=H(12, day=3))
    assert pipeline.dirty_count() == 2
    resume = H(12, day=11)
    for k in range(12):  # one day per tick: the watermark is back within 5 minutes of now after 10 ticks
        pipeline.tick(at=resume + 5 * k * MIN)
    assert pipeline.state().watermark_at == resume + 50 * MIN
    assert raw_buckets(db) == {(H(11), w.r1, w.a1, w.p2): 100}
    assert pipeline.dirty_count() == 0
    if target == "reference":  # the first tick reached day 2 only, then pruned the day-3 rows unprocessed
        assert buckets(db) == {(H(11), w.r1, w.a1, w.p1): 100}
        return
    assert_converged(db)


def test_B5_prune_is_bounded_by_the_watermark_not_the_clock(db, pipeline):
    w = World(db)
    watermark = pipeline.state().watermark_at
    for days, model in ((8, "old"), (6, "young")):
        w.sql("INSERT INTO task_usage_hourly_dirty (bucket_hour, workspace_id, runtime_id, agent_id, provider,"
              " model, enqueued_at) VALUES (%s, %s, %s, %s, 'p', %s, %s)",
              (H(0), w.ws, w.r1, w.a1, model, watermark - timedelta(days=days)))
    far_later = watermark + timedelta(days=30)  # the clock does not matter, only the watermark
    assert pipeline.prune(timedelta(days=7), at=far_later) == 1
    with db.connect() as c:
        assert c.execute("SELECT model FROM task_usage_hourly_dirty").fetchall() == [("young",)]


# -------------------------------------------------------------------------------------------------------- B6


def T(month: int, day: int = 1, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize("target", BOTH)
def test_B6_backfill_slice_covers_rows_created_in_its_month_and_updated_later(db, pipeline, target):
    w = World(db)
    ta, tb = w.task(), w.task(agent=w.a2)
    ka, kb = (T(2, 20, 10), w.r1, w.a1, w.p1), (T(2, 25, 9), w.r1, w.a2, w.p1)
    w.usage(ta, T(2, 20, 10, 15), input=100)
    db.clock.set(T(2, 21, 12))
    backfill(db)
    w.usage(tb, T(2, 25, 9, 30), input=40)  # created in February, not rolled up yet
    w.usage(ta, START + 10 * MIN, input=150)  # both reported again in March: updated_at moves, created_at stays
    w.usage(tb, START + 10 * MIN, input=45)
    db.clock.set(START + 30 * MIN)
    result = backfill(db)
    assert [s.start for s in result.slices] == [T(2)]  # bounded by max(created_at): March is not run
    assert pipeline.state().watermark_at == START + 25 * MIN  # stamped past both updates
    assert raw_buckets(db) == {ka: 150, kb: 45}
    if target == "reference":
        assert result.rows == [0]
        for m in (35, 40, 60):
            pipeline.tick(at=START + m * MIN)
        assert buckets(db) == {ka: 100}  # a stale and a missing bucket, for good
        return
    assert result.rows == [2]  # the February slice finds both rows by created_at
    assert_converged(db)  # before any tick
    for m in (35, 40):
        pipeline.tick(at=START + m * MIN)
    assert_converged(db)


# -------------------------------------------------------------------------------------------------------- B7


@pytest.mark.parametrize("gap", ["last hour", "two hours back"])
@pytest.mark.parametrize("target", BOTH)
def test_B7_gap_the_hook_stamped_over_is_rolled_up_by_the_migrations(empty_db, target, gap):
    db = empty_db
    runner = Runner(db, Target.resolve(target), hooks={})
    assert runner.up("102")[-1].startswith("102_")
    w, p = World(db), Pipeline(db)
    if gap == "last hour":
        w.sql("UPDATE task_usage_hourly_rollup_state SET watermark_at = %s", (START - 30 * MIN,))
        w.usage(w.task(), START - 10 * MIN, input=100)  # after the watermark, within the hour
        truth = {(H(11), w.r1, w.a1, w.p1): 100}
    else:  # the hook only asks that the watermark be within 1 h of the NEWEST write
        w.sql("UPDATE task_usage_hourly_rollup_state SET watermark_at = %s", (H(10, 20),))
        w.usage(w.task(), H(10, 25), input=100)
        w.usage(w.task(agent=w.a2), H(11, 15), input=7)
        truth = {(H(10), w.r1, w.a1, w.p1): 100, (H(11), w.r1, w.a2, w.p1): 7}
    assert pre_103_hook(db) == "stamped without rolling up the last hour"
    assert p.state().watermark_at == START - 5 * MIN
    runner.up()
    try:
        if target == "reference":
            for m in (5, 10, 60, 24 * 60):
                p.tick(at=START + m * MIN)
            assert raw_buckets(db) == truth and buckets(db) == {}  # never rolled up
            return
        assert buckets(db) == raw_buckets(db) == truth  # by the migration itself, before any tick
        assert_converged(db)
        for m in (5, 10, 60):
            p.tick(at=START + m * MIN)
        assert_converged(db)
    finally:
        p.close()


# -------------------------------------------------------------------------------------------------------- B8


@pytest.mark.parametrize("target", BOTH)
def test_B8_failed_tick_persists_its_error(db, pipeline, target):
    w = World(db)
    ok, big1, big2 = w.task(), w.task(agent=w.a2), w.task(agent=w.a2)
    w.usage(ok, H(11, 30), input=10)
    w.usage(big1, H(11, 50), input=BIG)
    w.usage(big2, H(11, 51), input=BIG)  # same bucket as big1: its sum overflows bigint
    watermark = pipeline.state().watermark_at
    if target == "reference":
        with pytest.raises(psycopg.errors.NumericValueOutOfRange):
            pipeline.tick(at=H(12))
        state = pipeline.state()
        assert state.last_error is None and state.last_run_finished_at is None  # rolled back with the re-raise
        return
    notices = []
    pipeline.conn.add_notice_handler(lambda d: notices.append((d.severity_nonlocalized, d.message_primary)))
    assert pipeline.tick(at=H(12)) == -1  # failed, see last_error
    assert notices and notices[-1][0] == "WARNING" and "bigint out of range" in notices[-1][1]
    state = pipeline.state()  # read from another connection: committed
    assert "bigint out of range" in state.last_error
    assert state.last_run_started_at == state.last_run_finished_at == H(12)
    assert state.watermark_at == watermark and buckets(db) == {}  # the failed work is undone
    assert not pipeline.holds_tick_lock()
    assert pipeline.tick(at=H(12, 5)) == -1  # fails again, and says so again
    state = pipeline.state()
    assert "bigint out of range" in state.last_error and state.last_run_finished_at == H(12, 5)
    w.sql("DELETE FROM task_usage WHERE task_id = %s", (big2,), at=H(12, 6))
    assert pipeline.tick(at=H(12, 10)) == 2
    state = pipeline.state()
    assert state.last_error is None and state.watermark_at == H(12, 5) and state.last_run_rows == 2
    assert_converged(db)


# ------------------------------------------------------------------------------------------------------- B9


@pytest.mark.parametrize("target", BOTH)
def test_B9_row_written_while_the_last_backfill_slice_runs_is_rolled_up(db, pipeline, target):
    w = World(db)
    t1, t2 = w.task(), w.task(agent=w.a2)
    w.usage(t1, START - 2 * timedelta(hours=1), input=5)

    def writer_during(s, rows):  # a report whose transaction began at 11:53 commits after the March slice
        if s.start == T(3):
            w.usage(t2, START - 7 * MIN, input=40)

    backfill(db, on_slice=writer_during)
    assert pipeline.state().watermark_at == START - 5 * MIN  # stamped past 11:53
    for m in (5, 10, 60):
        pipeline.tick(at=START + m * MIN)
    assert raw_buckets(db) == {(H(10), w.r1, w.a1, w.p1): 5, (H(11), w.r1, w.a2, w.p1): 40}
    if target == "reference":
        assert buckets(db) == {(H(10), w.r1, w.a1, w.p1): 5}
        return
    assert_converged(db)


# ------------------------------------------------------------------------------------------------------ B12


@pytest.mark.parametrize("target", BOTH)
def test_B12_changing_agent_id_moves_the_tokens(db, pipeline, target):
    w = World(db)
    t = w.task()
    w.usage(t, H(10, 10), input=100)
    pipeline.tick(at=H(12))
    w.sql("UPDATE agent_task_queue SET agent_id = %s WHERE id = %s", (w.a2, t), at=H(12, 1))
    for at in (H(12, 10), H(13)):
        pipeline.tick(at=at)
    assert raw_buckets(db) == {(H(10), w.r1, w.a2, w.p1): 100}
    if target == "reference":
        assert buckets(db) == {(H(10), w.r1, w.a1, w.p1): 100} and pipeline.dirty_count() == 0
        return
    assert_converged(db)


# ------------------------------------------------------------------------------------------------------ B13

B13_CHANGES = {
    "model, updated_at bumped": "UPDATE task_usage SET model = 'claude-opus', updated_at = now() WHERE task_id = %s",
    "model, updated_at untouched": "UPDATE task_usage SET model = 'claude-opus' WHERE task_id = %s",
    "tokens, updated_at untouched": "UPDATE task_usage SET input_tokens = 150 WHERE task_id = %s",
    "created_at to another hour": "UPDATE task_usage SET created_at = created_at - interval '3 hours' WHERE task_id = %s",
}


@pytest.mark.parametrize("change", list(B13_CHANGES))
@pytest.mark.parametrize("target", BOTH)
def test_B13_updates_of_usage_rows_reach_the_rollup(db, pipeline, target, change):
    w = World(db)
    t = w.task()
    w.usage(t, H(10, 10), input=100)
    w.usage(w.task(agent=w.a2), H(10, 20), input=9)  # another bucket, untouched
    pipeline.tick(at=H(12))
    w.sql(B13_CHANGES[change], (t,), at=H(12, 1))
    for at in (H(12, 10), H(13)):
        pipeline.tick(at=at)
    rolled, truth = by_model(hourly_full(db)), by_model(hourly_truth(db))
    if target == "hardened":
        assert_converged(db)
        return
    other = {(H(10), w.a2, w.p1, "claude-sonnet"): 9}
    old = {(H(10), w.a1, w.p1, "claude-sonnet"): 100}
    expected = {  # what the reference keeps: the old bucket, plus the new one only when updated_at moved
        "model, updated_at bumped": (old | {(H(10), w.a1, w.p1, "claude-opus"): 100}),
        "model, updated_at untouched": old,
        "tokens, updated_at untouched": old,
        "created_at to another hour": old,
    }[change]
    assert rolled == other | expected
    assert rolled != truth


def test_B13_moving_usage_to_another_task_moves_the_tokens(db, pipeline):
    w = World(db)
    t1, t2 = w.task(), w.task(agent=w.a2, runtime="r2", issue=None)
    w.usage(t1, H(10, 10), input=100)
    pipeline.tick(at=H(12))
    w.sql("UPDATE task_usage SET task_id = %s WHERE task_id = %s", (t2, t1), at=H(12, 1))
    pipeline.tick(at=H(12, 10))
    assert raw_buckets(db) == {(H(10), w.r2, w.a2, None): 100}
    assert_converged(db)


# ------------------------------------------------------------------------------------------------------ B10


def test_B10_quarter_hour_table_follows_its_truth_and_expresses_kolkata_days(db, pipeline):
    w = World(db)
    t1, t2 = w.task(), w.task(agent=w.a2, issue=None)
    w.usage(t1, H(18, 10), input=10, output=1)
    w.usage(t1, H(18, 40), input=100, model="claude-haiku")  # 00:10 on March 2 in Asia/Kolkata
    w.usage(t2, H(18, 55), input=7)
    pipeline.tick(at=H(19, 10))
    assert_converged(db)
    with db.connect() as c:
        got = c.execute("SELECT bucket_start, model, input_tokens FROM task_usage_quarter_hourly"
                        " ORDER BY bucket_start, model").fetchall()
        assert got == [(H(18), "claude-sonnet", 10), (H(18, 30), "claude-haiku", 100),
                       (H(18, 45), "claude-sonnet", 7)]
        day = "DATE({} AT TIME ZONE 'Asia/Kolkata')"
        per_day = "SELECT {d}, sum(input_tokens) FROM {t} GROUP BY 1 ORDER BY 1"
        truth = c.execute(per_day.format(d=day.format("created_at"), t="task_usage")).fetchall()
        quarter = c.execute(per_day.format(d=day.format("bucket_start"), t="task_usage_quarter_hourly")).fetchall()
        hourly = c.execute(per_day.format(d=day.format("bucket_hour"), t="task_usage_hourly")).fetchall()
    assert truth == quarter == [(datetime(2026, 3, 1).date(), 10), (datetime(2026, 3, 2).date(), 107)]
    assert hourly == [(datetime(2026, 3, 1).date(), 117)]  # the hour grain's B10, unchanged
    # Quarters follow every kind of change; emptied ones go.
    w.sql("UPDATE issue SET project_id = %s WHERE id = %s", (w.p2, w.i1), at=H(19, 11))
    w.sql("DELETE FROM task_usage WHERE task_id = %s", (t2,), at=H(19, 12))
    w.usage(t1, H(19, 13), input=11)
    pipeline.tick(at=H(19, 20))
    assert_converged(db)
    with db.connect() as c:
        assert c.execute("SELECT count(*), count(*) FILTER (WHERE project_id = %s)"
                         " FROM task_usage_quarter_hourly", (w.p2,)).fetchone() == (2, 2)


def test_hardened_migrations_on_a_live_reference_database_fill_the_quarter_table(server, reference_template):
    with Database(server, START, template=reference_template) as db:
        w = World(db)
        t = w.task()
        w.usage(t, H(10, 10), input=100)
        w.usage(t, H(10, 50), input=3, model="claude-haiku")
        w.usage(w.task(issue=None), H(11, 20), input=7)
        p = Pipeline(db)
        try:
            p.tick(at=H(12))
            w.usage(t, H(12, 1), input=120)  # pending when the hardened migrations arrive
            applied = Runner(db, Target.resolve("hardened"), hooks={}).up()
            assert [v.split("_")[0] for v in applied] == [str(n) for n in range(105, 115)]
            assert quarter_full(db) == quarter_truth(db)  # built from the raw rows at once
            p.tick(at=H(12, 10))
            assert_converged(db)
        finally:
            p.close()


# ------------------------------------------------------------------------------------- consistent cases


def test_consistent_cases_still_converge_on_hardened(db, pipeline):
    """The peer cases of invariants.md, run one after the other on the hardened target."""
    w = World(db)
    t1, chat, t3 = w.task(), w.task(issue=None), w.task(runtime="r2", issue=None)
    w.usage(t1, H(10, 10), input=100, output=10, cache_read=5, cache_write=1)
    w.usage(t1, H(10, 20), input=7, provider="OpenAI", model="gpt")
    w.usage(chat, H(10, 50), input=30)
    w.usage(t3, H(11, 5), input=2)
    assert pipeline.tick(at=H(12)) == 4
    assert_converged(db)
    assert pipeline.window(H(0), H(12), at=H(12, 1)) == 4  # repeated windows are idempotent
    assert_converged(db)
    steps = [
        ("UPDATE agent_task_queue SET runtime_id = %s WHERE id = %s", (w.r2, t1)),  # runtime reassignment
        ("UPDATE issue SET project_id = %s WHERE id = %s", (w.p2, w.i1)),  # issue project change
        ("UPDATE agent_task_queue SET issue_id = %s WHERE id = %s", (w.i1, chat)),  # chat task linked
        ("DELETE FROM project WHERE id = %s", (w.p2,)),  # FK SET NULL re-attributes
        ("DELETE FROM task_usage WHERE task_id = %s AND model = 'gpt'", (t1,)),  # direct usage delete
        ("DELETE FROM issue WHERE id = %s", (w.i1,)),  # issue delete
        ("DELETE FROM agent_runtime WHERE id = %s", (w.r2,)),  # runtime delete by cascade (no agent on r2)
    ]
    at = H(12, 1)
    for query, params in steps:
        w.sql(query, params, at=at)
        at += 5 * MIN
        pipeline.tick(at=at + MIN)
        assert_converged(db)
    assert raw_buckets(db) == {}
    assert pipeline.dirty_count() == 0


def test_six_concurrent_ticks_one_winner_on_hardened(db, pipeline):
    w = World(db)
    for i in range(12):
        w.usage(w.task(), H(10, i), input=i + 1, model=f"m{i % 3}")
    results = concurrent_ticks(db, pipeline, H(12))
    assert sorted(results) == [0, 0, 0, 0, 0, 3]
    assert_converged(db)
    assert pipeline.tick(at=H(12)) == 0
