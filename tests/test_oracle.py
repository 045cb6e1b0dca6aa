"""The polars oracle on small hand-written histories: overwrite semantics, cascades, re-keying, outcomes."""

from __future__ import annotations

import polars as pl

from bench.drive.history import as_seen, frame_from_ops
from bench.judge.oracle import hour_truth, usage_rows
from rollup.units import HOUR
from bench.workload.ops import Op

H = 1_772_366_400_000_000  # 2026-03-01 12:00Z in microseconds
MIN = 60_000_000


class Story:
    """Builds a history one operation at a time; every operation succeeds unless told otherwise."""

    def __init__(self):
        self.ops: list[Op] = []
        self.outcomes: dict[int, str] = {}
        self.t = H
        self.add("workspace", id="w1", name="W1", slug="w1")
        self.add("workspace", id="w2", name="W2", slug="w2")
        for ws in ("w1", "w2"):
            self.add("runtime", id=f"r-{ws}", workspace_id=ws, name="r", provider="p", daemon_id="d")
            self.add("runtime", id=f"r2-{ws}", workspace_id=ws, name="r2", provider="p", daemon_id="d2")
            self.add("agent", id=f"a-{ws}", workspace_id=ws, runtime_id=f"r-{ws}", name="a")
            self.add("project", id=f"p-{ws}", workspace_id=ws, title="p")
            self.add("issue", id=f"i-{ws}", workspace_id=ws, project_id=f"p-{ws}", number=1, title="i", creator_id="u")

    def add(self, op_name: str, /, fail: bool = False, **value) -> Op:
        self.t += MIN
        op = Op(op_name, self.t, 0, value, index=len(self.ops))
        self.ops.append(op)
        if fail:
            self.outcomes[op.index] = "fail"
        return op

    def task(self, tid: str, ws: str = "w1", issue: str | None = "i-w1") -> None:
        self.add("task", id=tid, agent_id=f"a-{ws}", runtime_id=f"r-{ws}", issue_id=issue)

    def usage(self, tid: str, tokens: int, model: str = "m", created_at: int | None = None, fail: bool = False):
        self.add("usage", fail=fail, task_id=tid, provider="P", model=model, input=tokens, output=1, cache_read=0,
                 cache_write=0, created_at=created_at)

    def rows(self) -> pl.DataFrame:
        return usage_rows(frame_from_ops(self.ops, self.outcomes))

    def truth(self) -> dict:
        return {(r["agent_id"], r["project_id"], r["model"]): r["input_tokens"]
                for r in hour_truth(self.rows()).to_dicts()}


def test_upserts_overwrite_keep_first_created_at_and_lower_the_provider():
    s = Story()
    s.task("t1")
    s.usage("t1", 10)
    first = s.t
    s.usage("t1", 25)
    s.usage("t1", 99, fail=True)  # a failed write changes nothing
    rows = s.rows().to_dicts()
    assert [(r["provider"], r["input_tokens"], r["created_at"]) for r in rows] == [("p", 25, first)]
    t = hour_truth(s.rows()).to_dicts()
    assert (t[0]["task_count"], t[0]["event_count"], t[0]["bucket_hour"]) == (1, 1, first // HOUR * HOUR)


def test_delete_then_report_again_starts_a_new_row():
    s = Story()
    s.task("t1")
    s.usage("t1", 10, created_at=H - 5 * HOUR)
    s.add("delete_usage", task_id="t1", provider="p", model="m")
    s.usage("t1", 7)
    rows = s.rows().to_dicts()
    assert [(r["input_tokens"], r["created_at"]) for r in rows] == [(7, s.t)]


def test_cascades_remove_tasks_through_whatever_they_pointed_at_when_it_died():
    s = Story()
    for t in ("stay", "agent", "issue", "runtime", "moved-away", "cross"):
        s.task(t)
        s.usage(t, 1)
    s.task("w2-task", ws="w2", issue="i-w2")
    s.usage("w2-task", 1)
    s.add("reassign_runtime", id="runtime", runtime_id="r2-w1")
    s.add("reassign_runtime", id="moved-away", runtime_id="r2-w1")
    s.add("reassign_runtime", id="moved-away", runtime_id="r-w1")  # back before r2 dies: survives
    s.add("delete_runtime", id="r2-w1")
    s.add("link_issue", id="cross", issue_id="i-w2")  # cross-workspace: dies with w2's issue
    s.add("agent", id="a2-w1", workspace_id="w1", runtime_id="r-w1", name="a2")
    s.add("change_agent", id="agent", agent_id="a2-w1")
    s.add("delete_agent", id="a2-w1")
    s.add("issue", id="i2-w1", workspace_id="w1", project_id=None, number=2, title="i2", creator_id="u")
    s.add("link_issue", id="issue", issue_id="i2-w1")
    s.add("delete_issue", id="i2-w1")
    s.add("delete_workspace", id="w2")
    assert sorted(s.rows().get_column("task_id").to_list()) == ["moved-away", "stay"]


def test_project_delete_sets_issue_project_to_null_and_changes_move_tokens():
    s = Story()
    s.task("t1")
    s.usage("t1", 10)
    assert s.truth() == {("a-w1", "p-w1", "m"): 10}
    s.add("project", id="p2", workspace_id="w1", title="p2")
    s.add("change_issue_project", id="i-w1", project_id="p2")
    assert s.truth() == {("a-w1", "p2", "m"): 10}
    s.add("delete_project", id="p2")
    assert s.truth() == {("a-w1", None, "m"): 10}


def test_rekeyed_usage_rows_move_with_their_values():
    s = Story()
    s.task("t1")
    s.task("t2")
    s.usage("t1", 10)
    created = s.t
    bump = s.add("update_no_bump", task_id="t1", provider="p", model="m", input=12, output=1, cache_read=0,
                 cache_write=0)
    move = s.add("change_usage_key", task_id="t1", provider="p", model="m", new_task_id=None, new_provider=None,
                 new_model="m2", new_created_at=None)
    rows = usage_rows(frame_from_ops(s.ops, s.outcomes, results={move.index: 1, bump.index: 1}))
    assert [(r["task_id"], r["model"], r["input_tokens"], r["created_at"]) for r in rows.to_dicts()] == \
        [("t1", "m2", 12, created)]


def test_before_sees_only_earlier_operations():
    s = Story()
    s.task("t1")
    s.usage("t1", 10)
    cut = s.ops[-1].index
    s.usage("t1", 30)
    ops = frame_from_ops(s.ops, s.outcomes)
    assert usage_rows(as_seen(ops, cut + 1)).get_column("input_tokens").to_list() == [10]
    assert usage_rows(ops).get_column("input_tokens").to_list() == [30]
