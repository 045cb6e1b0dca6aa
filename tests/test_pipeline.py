"""The reference pipeline on the consistent cases of invariants.md: each must converge, with exact numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.helpers import World, buckets, concurrent_ticks, hourly


def H(hour: int, minute: int = 0, day: int = 1) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def test_tick_moves_watermark_to_five_minutes_before_simulated_now(db, pipeline):
    assert pipeline.state().watermark_at == H(23, 55, day=1) - timedelta(days=1)  # stamped before 103
    pipeline.tick(at=H(12))
    state = pipeline.state()
    assert state.watermark_at == H(11, 55)
    assert state.last_run_started_at == H(12) and state.last_run_finished_at == H(12)
    assert datetime.now(UTC) - state.watermark_at > timedelta(days=30)  # not the wall clock


def test_lag_is_seconds_since_the_last_tick_finished(db, pipeline):
    pipeline.tick(at=H(12))
    assert pipeline.lag_seconds(at=H(12, 3)) == 180.0


def test_tick_rolls_up_sums_and_counts_per_key(db, pipeline):
    w = World(db)
    t1, t2 = w.task(), w.task()
    w.usage(t1, H(10, 10), input=100, output=10, cache_read=5, cache_write=1)
    w.usage(t1, H(10, 20), input=7, provider="OpenAI", model="gpt")  # provider is lower-cased on write
    w.usage(t2, H(10, 50), input=30, output=3)
    w.usage(t1, H(10, 30), input=120, output=12, cache_read=6, cache_write=2)  # overwrite, not add
    assert pipeline.tick(at=H(12)) == 2
    rows = {(r["provider"], r["model"]): r for r in hourly(db)}
    a = rows[("anthropic", "claude-sonnet")]
    assert (a["input_tokens"], a["output_tokens"], a["cache_read_tokens"], a["cache_write_tokens"]) == (150, 15, 6, 2)
    assert (a["task_count"], a["event_count"]) == (2, 2)
    assert a["bucket_hour"] == H(10) and a["project_id"] == w.p1 and a["workspace_id"] == w.ws
    o = rows[("openai", "gpt")]
    assert (o["input_tokens"], o["task_count"], o["event_count"]) == (7, 1, 1)


def test_repeated_windows_are_idempotent(db, pipeline):
    w = World(db)
    w.usage(w.task(), H(10, 10), input=100)
    pipeline.tick(at=H(12))
    before = hourly(db)
    assert pipeline.window(H(0), H(12), at=H(12, 1)) == 1
    assert pipeline.window(H(0), H(12), at=H(12, 2)) == 1
    assert pipeline.tick(at=H(12, 3)) == 0  # nothing new since the watermark
    after = hourly(db)
    assert [{**r, "updated_at": None} for r in after] == [{**r, "updated_at": None} for r in before]
    assert after[0]["updated_at"] == H(12, 2)  # rebuilt (replaced), not added to


def test_runtime_reassignment_moves_tokens(db, pipeline):
    w = World(db)
    t = w.task()
    w.usage(t, H(10, 10), input=100)
    pipeline.tick(at=H(12))
    assert buckets(db) == {(H(10), w.r1, w.a1, w.p1): 100}
    w.sql("UPDATE agent_task_queue SET runtime_id = %s WHERE id = %s", (w.r2, t), at=H(12, 1))
    pipeline.tick(at=H(12, 10))
    assert buckets(db) == {(H(10), w.r2, w.a1, w.p1): 100}


def test_issue_project_change_moves_tokens_and_deletes_emptied_bucket(db, pipeline):
    w = World(db)
    w.usage(w.task(), H(10, 10), input=100)
    pipeline.tick(at=H(12))
    w.sql("UPDATE issue SET project_id = %s WHERE id = %s", (w.p2, w.i1), at=H(12, 1))
    assert pipeline.tick(at=H(12, 10)) == 2  # one upsert, one delete
    assert buckets(db) == {(H(10), w.r1, w.a1, w.p2): 100}


def test_issue_delete_clears_its_buckets(db, pipeline):
    w = World(db)
    w.usage(w.task(), H(10, 10), input=100)
    w.usage(w.task(issue=None), H(10, 20), input=5)  # a chat task, not the issue's
    pipeline.tick(at=H(12))
    w.sql("DELETE FROM issue WHERE id = %s", (w.i1,), at=H(12, 1))
    pipeline.tick(at=H(12, 10))
    assert buckets(db) == {(H(10), w.r1, w.a1, None): 5}


def test_linking_chat_task_to_issue_moves_tokens_from_null_project(db, pipeline):
    w = World(db)
    t = w.task(issue=None)
    w.usage(t, H(10, 10), input=100)
    pipeline.tick(at=H(12))
    assert buckets(db) == {(H(10), w.r1, w.a1, None): 100}
    w.sql("UPDATE agent_task_queue SET issue_id = %s WHERE id = %s", (w.i1, t), at=H(12, 1))
    pipeline.tick(at=H(12, 10))
    assert buckets(db) == {(H(10), w.r1, w.a1, w.p1): 100}


def test_direct_usage_delete_clears_its_bucket(db, pipeline):
    w = World(db)
    t = w.task()
    w.usage(t, H(10, 10), input=100)
    w.usage(t, H(11, 10), input=40, model="claude-haiku")
    pipeline.tick(at=H(12))
    w.sql("DELETE FROM task_usage WHERE task_id = %s AND model = 'claude-sonnet'", (t,), at=H(12, 1))
    pipeline.tick(at=H(12, 10))
    assert buckets(db) == {(H(11), w.r1, w.a1, w.p1): 40}


def test_project_delete_reattributes_to_no_project(db, pipeline):
    w = World(db)
    w.usage(w.task(), H(10, 10), input=100)
    pipeline.tick(at=H(12))
    w.sql("DELETE FROM project WHERE id = %s", (w.p1,), at=H(12, 1))  # FK SET NULL: an UPDATE of issue
    pipeline.tick(at=H(12, 10))
    assert buckets(db) == {(H(10), w.r1, w.a1, None): 100}


def test_runtime_delete_cascades_to_its_tasks_buckets(db, pipeline):
    w = World(db)
    w.usage(w.task(runtime="r2"), H(10, 10), input=100)
    w.usage(w.task(), H(10, 20), input=1)
    pipeline.tick(at=H(12))
    assert len(buckets(db)) == 2
    w.sql("DELETE FROM agent_runtime WHERE id = %s", (w.r2,), at=H(12, 1))  # no agent points at r2
    pipeline.tick(at=H(12, 10))
    assert buckets(db) == {(H(10), w.r1, w.a1, w.p1): 1}


def test_prune_keeps_rows_younger_than_retention(db, pipeline):
    w = World(db)
    for days_ago in (8, 7, 6):
        w.sql("INSERT INTO task_usage_hourly_dirty (bucket_hour, workspace_id, runtime_id, agent_id, provider,"
              " model, enqueued_at) VALUES (%s, %s, %s, %s, 'p', 'm', %s)",
              (H(days_ago), w.ws, w.r1, w.a1, H(12) - timedelta(days=days_ago, seconds=-1)))
    assert pipeline.prune(timedelta(days=7), at=H(12)) == 1  # only the row older than 7 days
    assert pipeline.dirty_count() == 2


def test_watermark_three_days_behind_catches_up_in_one_day_steps(db, pipeline):
    w = World(db)
    t = w.task()
    now = H(12, day=4)
    w.sql("UPDATE task_usage_hourly_rollup_state SET watermark_at = %s", (H(11, 55),), at=H(11, 55))
    for day, tokens in ((1, 10), (2, 20), (3, 30), (4, 40)):
        w.usage(t, H(9, day=day), input=tokens, model=f"m{day}")
    marks, seen = [], []
    for _ in range(4):
        pipeline.tick(at=now)
        marks.append(pipeline.state().watermark_at)
        seen.append(sorted(r["input_tokens"] for r in hourly(db)))
    assert marks == [H(11, 55, day=2), H(11, 55, day=3), H(11, 55, day=4), H(11, 55, day=4)]
    assert seen == [[20], [20, 30], [20, 30, 40], [20, 30, 40]]  # day 1's row predates the watermark


def test_six_concurrent_ticks_one_winner_and_rerun_changes_nothing(db, pipeline):
    w = World(db)
    for i in range(20):
        w.usage(w.task(), H(10, i), input=i + 1, model=f"m{i % 4}")
    results = concurrent_ticks(db, pipeline, H(12))
    assert sorted(results) == [0, 0, 0, 0, 0, 4]
    assert sum(r["input_tokens"] for r in hourly(db)) == sum(range(1, 21))
    before = hourly(db)
    assert pipeline.tick(at=H(12)) == 0
    assert hourly(db) == before
