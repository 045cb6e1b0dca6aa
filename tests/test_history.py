"""The history file: canonical lines whatever path wrote them, a sha256 of exactly the bytes written, and a
round trip through the columnar reader."""

from __future__ import annotations

import hashlib

from bench.drive.chain import Chain
from bench.drive.history import History, HistoryWriter, _line
from bench.workload.ops import Op

T = 1_772_366_400_000_000


def _ops() -> list[Op]:
    return [Op("task", T, 0, {"id": "t1", "agent_id": "a", "runtime_id": "r", "issue_id": None}),
            Op("usage", T + 1, 1, {"task_id": "t1", "provider": "P", "model": "m", "input": 5, "output": 1,
                                   "cache_read": 0, "cache_write": 0, "created_at": None}),
            Op("delete_usage", T + 2, 0, {"task_id": "t1", "provider": "p", "model": "m"})]


def test_fast_paths_write_the_canonical_lines(tmp_path):
    ops = _ops()
    w = HistoryWriter(tmp_path / "h.jsonl", {"scenario": "x"})
    for op in ops:
        w.invoke(op)
    w.all_ok(ops[:2])
    w.complete(ops[2], "ok", result=1)
    w.close()
    lines = (tmp_path / "h.jsonl").read_bytes().splitlines(keepends=True)
    want = [_line({"t": "header", "format": 1, "scenario": "x"})]
    want += [_line({"t": "invoke", "i": op.index, "f": op.name, "at": op.at, "p": op.session, "v": op.value})
             for op in ops]
    want += [_line({"t": "ok", "i": 0}), _line({"t": "ok", "i": 1}), _line({"t": "ok", "i": 2, "r": 1})]
    chain = Chain()  # each canonical line with its link, in the order written
    assert lines == [chain.link(line) for line in want]
    assert w.sha256 == hashlib.sha256(b"".join(want)).hexdigest()  # the content: the lines without their links
    assert History.load(tmp_path / "h.jsonl").sha256 == w.sha256


def test_reader_pairs_each_invoke_with_its_outcome(tmp_path):
    ops = _ops()
    w = HistoryWriter(tmp_path / "h.jsonl", {"scenario": "x"})
    for op in ops:
        w.invoke(op)
    w.complete(ops[1], "fail", error="23503: foreign key")
    w.all_ok([ops[0]])
    w.complete(ops[2], "ok", result=0)
    w.close()
    h = History.load(tmp_path / "h.jsonl")
    assert h.ops["outcome"].to_list() == ["ok", "fail", "ok"]
    assert h.ops["r"].to_list() == [None, None, 0]
    assert [op.value for op in h.replay()] == [op.value for op in ops]
    assert h.sha256 == w.sha256


def _usage(at: int, session: int) -> Op:
    return Op("usage", at, session, {"task_id": "t1", "provider": "p", "model": "m", "input": 5, "output": 1,
                                     "cache_read": 0, "cache_write": 0, "created_at": None})


def test_writes_in_a_held_transaction_are_pending_until_its_end_and_dated_by_its_start(tmp_path):
    minute = 60_000_000
    ops = [Op("begin", T, 100), _usage(T + minute, 100), _usage(T + minute, 0), Op("commit", T + 2 * minute, 100),
           Op("begin", T + 3 * minute, 101), _usage(T + 4 * minute, 101), Op("rollback", T + 5 * minute, 101),
           _usage(T + 6 * minute, 100)]  # session 100 again, in a transaction of its own
    w = HistoryWriter(tmp_path / "h.jsonl", {"scenario": "x"})
    for op in ops:
        w.invoke(op)
        w.complete(op, "info" if op.session >= 100 and op.name == "usage" and op is not ops[7] else "ok")
    w.complete(ops[1], "ok")  # at the commit
    w.complete(ops[5], "fail", error="rolled back", tally=False)  # at the rollback
    w.close()
    h = History.load(tmp_path / "h.jsonl").ops
    assert h["outcome"].to_list() == ["ok", "ok", "ok", "ok", "ok", "fail", "ok", "ok"]
    assert h["start"].to_list() == [T, T, T + minute, T + 2 * minute, T + 3 * minute, T + 3 * minute,
                                    T + 5 * minute, T + 6 * minute]
    assert w.failures == {}  # a rollback is the scenario's doing, not a failure to judge


def test_failures_are_tallied_per_kind_with_the_first(tmp_path):
    w = HistoryWriter(tmp_path / "h.jsonl", {"scenario": "x"})
    ops = _ops()
    for op in ops:
        w.invoke(op)
    w.complete(ops[0], "ok")
    w.complete(ops[1], "fail", error="23514: check")
    w.complete(ops[2], "fail", error="42501: no")
    w.close()
    denied = {"i": 2, "at": T + 2, "error": "42501: no"}  # class 42: a defect of the SQL the write ran
    assert w.failures == {"usage": {"count": 1, "first": {"i": 1, "at": T + 1, "error": "23514: check"}},
                          "delete_usage": {"count": 1, "first": denied, "defects": 1, "first_defect": denied}}


def test_a_trimmed_replay_keeps_the_chosen_writes_and_everything_that_is_not_a_write(tmp_path):
    ops = [Op("workspace", T, 0, {"id": "w", "name": "W", "slug": "w"}), *_ops(),
           Op("tick", T + 3, 0, {"conn": "pool", "wait": True, "timeout_ms": None}),
           Op("check", T + 4, 0, {"final": True})]
    w = HistoryWriter(tmp_path / "h.jsonl", {"scenario": "x"})
    for op in ops:
        w.invoke(op)
    w.all_ok(ops)
    w.close()
    h = History.load(tmp_path / "h.jsonl")
    assert [op.name for op in h.replay({1, 3})] == ["workspace", "task", "delete_usage", "tick", "check"]
    assert [op.name for op in h.replay(set())] == ["workspace", "tick", "check"]
    assert len(list(h.replay())) == len(ops)
