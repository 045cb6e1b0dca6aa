"""The backfill command and the pre-103 hook (pipeline.md §5), on the reference target, with exact numbers.

B6 (the standalone backfill bounds its months by max(created_at)) and B7 (the hook stamps a nearly current
watermark without rolling up the gap) reproduce here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from rollup.backfill import BackfillError, Options, Slice, backfill, month_slices, pre_103_hook
from rollup.migrations import MigrationError, Runner, Target
from rollup.pipeline import TICK_LOCK_KEY, Pipeline
from tests.conftest import START
from tests.helpers import World, buckets, raw_buckets

STAMP = START - timedelta(minutes=5)  # what every backfill and hook stamps the watermark to
TEMPLATE_WATERMARK = datetime(2026, 2, 28, 23, 55, tzinfo=UTC)  # the template's hook stamped it


def T(month: int, day: int = 1, hour: int = 0, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def S(month: int, year: int = 2026) -> Slice:
    """The slice of one UTC calendar month."""
    end = T(month % 12 + 1, year=year + month // 12)
    return Slice(T(month, year=year), end)


JAN, FEB, MAR = S(1), S(2), S(3)


# ------------------------------------------------------------------------------------------- month_slices


def test_month_slices_cover_the_months_of_first_through_last():
    assert month_slices(T(1, 15, 10), T(3, 1, 10)) == [JAN, FEB, MAR]
    assert JAN == Slice(T(1), T(2)) and MAR == Slice(T(3), T(4))
    assert str(FEB) == "2026-02 [2026-02-01 .. 2026-03-01)"


def test_month_slices_boundaries_belong_to_the_month_they_start():
    assert month_slices(T(1), T(3)) == [JAN, FEB, MAR]  # an instant at 00:00 on the 1st opens its month
    assert month_slices(T(1), T(3) - timedelta(microseconds=1)) == [JAN, FEB]
    assert month_slices(T(2) - timedelta(microseconds=1), T(2)) == [JAN, FEB]


def test_month_slices_cross_december_into_january():
    got = month_slices(T(11, 20, year=2025), T(1, 5))
    assert got == [S(11, 2025), S(12, 2025), JAN]
    assert got[1] == Slice(T(12, year=2025), T(1))


def test_month_slices_one_month():
    assert month_slices(T(2, 3), T(2, 27, 23, 59)) == [FEB]
    assert month_slices(T(2, 3), T(2, 3)) == [FEB]


def test_month_slices_are_utc_months_whatever_the_zone_of_the_instants():
    kolkata = ZoneInfo("Asia/Kolkata")
    first = datetime(2026, 2, 1, 0, 30, tzinfo=kolkata)  # 2026-01-31 19:00Z: still January in UTC
    last = datetime(2026, 3, 1, 4, 0, tzinfo=kolkata)  # 2026-02-28 22:30Z: still February in UTC
    assert month_slices(first, last) == [JAN, FEB]


# ------------------------------------------------------------------------------------- standalone backfill


@pytest.fixture
def history(db):
    """Usage written as it happened: in January (two buckets) and in March; nothing in February."""
    w = World(db)
    t1, t2, t3 = w.task(), w.task(agent=w.a2, issue=None), w.task()
    w.usage(t1, T(1, 15, 10, 20), input=100)
    w.usage(t2, T(1, 15, 10, 40), input=5)
    w.usage(t3, T(3, 1, 10, 10), input=30)
    w.truth = {
        (T(1, 15, 10), w.r1, w.a1, w.p1): 100,
        (T(1, 15, 10), w.r1, w.a2, None): 5,
        (T(3, 1, 10), w.r1, w.a1, w.p1): 30,
    }
    assert raw_buckets(db) == w.truth and buckets(db) == {}
    return w


def test_backfill_runs_one_slice_per_month_and_equals_the_truth(db, pipeline, history):
    result = backfill(db)
    assert result.slices == [JAN, FEB, MAR]
    assert result.rows == [2, 0, 1] and not result.dry_run
    assert buckets(db) == raw_buckets(db) == history.truth
    state = pipeline.state()
    assert state.watermark_at == STAMP
    assert state.last_run_started_at is None  # the backfill is not a tick
    assert pipeline.tick(at=START + timedelta(minutes=10)) == 0  # nothing new past the stamp
    assert buckets(db) == history.truth


def test_backfill_dry_run_lists_slices_and_writes_nothing(db, pipeline, history):
    result = backfill(db, Options(dry_run=True))
    assert result.dry_run and result.slices == [JAN, FEB, MAR] and result.rows == []
    assert buckets(db) == {}
    assert pipeline.state().watermark_at == TEMPLATE_WATERMARK


def test_backfill_on_empty_usage_has_no_slices_but_stamps(db, pipeline):
    result = backfill(db)
    assert result.slices == [] and result.rows == []
    assert pipeline.state().watermark_at == STAMP


def test_months_back_that_skips_history_is_refused_without_force(db, pipeline, history):
    for n in (1, 2):
        with pytest.raises(BackfillError, match="--force") as err:
            backfill(db, Options(months_back=n))
        assert f"would skip {3 - n} month(s)" in str(err.value) and "from 2026-01" in str(err.value)
    with pytest.raises(BackfillError, match="at least 1"):
        backfill(db, Options(months_back=0))
    assert buckets(db) == {} and pipeline.state().watermark_at == TEMPLATE_WATERMARK  # refused before writing
    assert backfill(db, Options(months_back=3, dry_run=True)).slices == [JAN, FEB, MAR]  # skips nothing: allowed
    assert backfill(db, Options(months_back=5, dry_run=True)).slices == [JAN, FEB, MAR]


def test_months_back_with_force_does_only_the_last_months(db, pipeline, history):
    result = backfill(db, Options(months_back=1, force=True))
    assert result.slices == [MAR] and result.rows == [1]
    assert buckets(db) == {(T(3, 1, 10), history.r1, history.a1, history.p1): 30}  # January left out
    assert pipeline.state().watermark_at == STAMP  # stamped past January all the same
    pipeline.tick(at=START + timedelta(minutes=10))
    assert buckets(db) != raw_buckets(db)  # no tick ever goes back for January
    assert backfill(db, Options(months_back=2, force=True)).slices == [FEB, MAR]


def _lock_holders(db) -> int:
    with db.connect() as c:
        return c.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND granted",
                         (TICK_LOCK_KEY,)).fetchone()[0]


def test_tick_during_backfill_returns_zero_and_changes_nothing(db, pipeline, history):
    seen = []

    def tick_mid_run(s: Slice, rows: int) -> None:
        # Another connection ticks at 12:00 with work pending since the template's watermark (Feb 28 23:55).
        state = pipeline.state()
        seen.append((s, rows, _lock_holders(db), pipeline.tick(at=START), state.watermark_at,
                     state.last_run_started_at))

    backfill(db, on_slice=tick_mid_run)
    assert seen == [(JAN, 2, 1, 0, TEMPLATE_WATERMARK, None),
                    (FEB, 0, 1, 0, TEMPLATE_WATERMARK, None),
                    (MAR, 1, 1, 0, TEMPLATE_WATERMARK, None)]
    state = pipeline.state()
    assert state.last_run_started_at is None  # the ticks did not even stamp their start: they lost the lock
    assert _lock_holders(db) == 0  # released at the end
    pipeline.tick(at=START)  # gets the lock now
    assert pipeline.state().last_run_started_at == START
    assert buckets(db) == history.truth


def test_tick_without_backfill_would_have_had_work(db, pipeline, history):
    """The counterpart of the test above: the same tick, no backfill running, rolls up March."""
    assert pipeline.tick(at=START) == 1
    assert buckets(db) == {(T(3, 1, 10), history.r1, history.a1, history.p1): 30}


def test_B6_row_created_last_month_and_upserted_this_month_falls_outside_every_slice(db, pipeline):
    w = World(db)
    ta, tb = w.task(), w.task(agent=w.a2)
    ka, kb = (T(2, 20, 10), w.r1, w.a1, w.p1), (T(2, 25, 9), w.r1, w.a2, w.p1)
    w.usage(ta, T(2, 20, 10, 15), input=100)
    db.clock.set(T(2, 21, 12))
    assert backfill(db).slices == [FEB]
    assert buckets(db) == {ka: 100}
    w.usage(tb, T(2, 25, 9, 30), input=40)  # created in February, never rolled up yet
    # Both rows are reported again (upserted) in March: updated_at moves, created_at stays in February.
    w.usage(ta, START + timedelta(minutes=10), input=150)
    w.usage(tb, START + timedelta(minutes=10), input=45)
    db.clock.set(START + timedelta(minutes=30))
    result = backfill(db)
    assert result.slices == [FEB]  # bounded by max(created_at): March, where the updates are, is not run
    assert result.rows == [0]  # the February window discovers by updated_at, which is now in March
    assert pipeline.state().watermark_at == START + timedelta(minutes=25)  # stamped past both updates
    for m in (35, 40, 60):
        pipeline.tick(at=START + timedelta(minutes=m))
    assert raw_buckets(db) == {ka: 150, kb: 45}
    assert buckets(db) == {ka: 100}  # a stale and a missing bucket, for good
    # The hook's bound, max(coalesce(updated_at, created_at)), reaches March and would have found them.
    repaired = backfill(db, Options(newest="coalesce(updated_at, created_at)"))
    assert repaired.slices == [FEB, MAR] and repaired.rows == [0, 2]
    assert buckets(db) == raw_buckets(db)


# ------------------------------------------------------------------------------------------ pre-103 hook


@pytest.fixture
def db102(empty_db):
    """A database migrated only through 102: the pipeline exists, the legacy rollups are still there."""
    assert Runner(empty_db, Target.resolve("reference"), hooks={}).up("102")[-1].startswith("102_")
    return empty_db


def test_hook_before_the_rollup_exists_skips(empty_db):
    Runner(empty_db, Target.resolve("reference"), hooks={}).up("100")
    assert pre_103_hook(empty_db) == "skipped: no hourly rollup state"


def test_hook_on_empty_usage_stamps(db102):
    p = Pipeline(db102)
    assert p.state().watermark_at == T(1, 1, year=1970)  # 101's default
    assert pre_103_hook(db102) == "stamped"
    assert p.state().watermark_at == STAMP
    assert buckets(db102) == {}
    p.close()


def test_B7_hook_stamps_a_nearly_current_watermark_without_rolling_up_the_gap(db102):
    w, p = World(db102), Pipeline(db102)
    w.sql("UPDATE task_usage_hourly_rollup_state SET watermark_at = %s", (START - timedelta(minutes=30),))
    w.usage(w.task(), START - timedelta(minutes=10), input=100)  # after the watermark, within the hour
    assert pre_103_hook(db102) == "stamped without rolling up the last hour"
    assert p.state().watermark_at == STAMP  # jumped over 11:30 .. 11:55, where the usage is
    assert Runner(db102, Target.resolve("reference"), hooks={}).up()[0].startswith("103_")  # 103 lets it by
    for m in (5, 10, 60, 24 * 60):
        p.tick(at=START + timedelta(minutes=m))
    assert raw_buckets(db102) == {(T(3, 1, 11), w.r1, w.a1, w.p1): 100}
    assert buckets(db102) == {}  # never rolled up
    p.close()


def test_hook_with_watermark_far_behind_backfills_to_the_truth(db102):
    w, p = World(db102), Pipeline(db102)
    t1, t2 = w.task(), w.task(agent=w.a2, issue=None)
    w.usage(t1, T(1, 15, 10, 20), input=100)
    w.usage(t2, T(3, 1, 10, 10), input=30)
    w.usage(t1, T(3, 1, 11, 58), input=120)  # upserted again just now: the hook bounds by updated_at too
    assert pre_103_hook(db102) == "backfilled 3 month(s)"
    truth = {(T(1, 15, 10), w.r1, w.a1, w.p1): 120, (T(3, 1, 10), w.r1, w.a2, None): 30}
    assert buckets(db102) == raw_buckets(db102) == truth
    assert p.state().watermark_at == STAMP
    p.close()


def test_migrating_through_103_with_the_default_hook_backfills_old_usage(db102):
    w = World(db102)
    t1, t2 = w.task(), w.task(runtime="r2")
    # Written now (updated_at = 12:00) with created_at months back, as an import of old history would be.
    w.usage(t1, START, input=100, created_at=T(12, 10, 9, 30, year=2025))
    w.usage(t2, START, input=7, created_at=T(1, 20, 15, 5))
    with pytest.raises(MigrationError, match="103 refused"):
        Runner(db102, Target.resolve("reference"), hooks={}).up()  # without the hook, 103 guards
    events = []
    applied = Runner(db102, Target.resolve("reference"), on_apply=lambda a, v: events.append((a, v))).up()
    assert [v.split("_")[0] for v in applied] == ["103", "104"]
    assert [(a, v.split("_")[0]) for a, v in events] == [("hook", "103"), ("up", "103"), ("up", "104")]
    truth = {(T(12, 10, 9, year=2025), w.r1, w.a1, w.p1): 100, (T(1, 20, 15), w.r2, w.a1, w.p1): 7}
    assert buckets(db102) == raw_buckets(db102) == truth
    p = Pipeline(db102)
    assert p.state().watermark_at == STAMP
    p.close()
