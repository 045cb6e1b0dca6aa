"""The client's bulk path against its definition: every operation its own transaction at its simulated time.

The bulk path (small batches in one pipelined transaction, bigger ones by COPY in chunks committed by a worker
thread, held rows, upserts of re-reports, recovery after a failed chunk) must leave the same rows and record the
same outcomes as applying the stream one operation at a time. Batches and chunks are made small here so that a
short stream crosses many of them.
"""

from __future__ import annotations

import dataclasses

import pytest

import bench.drive.loader
from bench.drive.client import SINGLE, Client
from bench.drive.history import History, HistoryWriter
from bench.drive.loader import USAGE_COLUMNS, Loader
from bench.workload.generator import generate
from bench.workload.ops import Op
from bench.workload.scenario import loads
from rollup.database import Database
from rollup.migrations import MIGRATIONS_ROOT, Target

from .conftest import START, migrated_template

# A chain whose usage rows carry a cost the client writes (tests/targets/cost_measures, rollups.toml).
COSTED = f"{MIGRATIONS_ROOT / 'reference'},{MIGRATIONS_ROOT.parent / 'tests' / 'targets' / 'cost_measures'}"

STREAM = """
[scenario]
name = "client"
seed = 3
duration = "10h"
[tenants]
workspaces = 2
issues = 4
[rates]
tasks_per_hour = 30.0
reports_per_row = [1, 3]
backdated_share = 0.2
[operations]
per_hour = 0.5
[zones]
view = ["UTC"]
"""
MISSING_TASK = "00000000-0000-4000-8000-00000000dead"


@pytest.fixture(scope="module")
def stream() -> list[Op]:
    return [op for op in generate(loads(STREAM)) if op.name in SINGLE]


def _spy(monkeypatch, cls, name: str, record=lambda self, *args: args) -> list:
    calls, original = [], getattr(cls, name)

    def spied(self, *args):
        calls.append(record(self, *args))
        return original(self, *args)

    monkeypatch.setattr(cls, name, spied)
    return calls


@pytest.fixture
def small_chunks(monkeypatch):
    """Batches under 20 rows in one pipelined transaction, bigger ones streamed in chunks of 40 rows; the
    chunks the worker thread committed, the batches the client had to recover, and the small batches."""
    monkeypatch.setattr(bench.drive.loader, "SMALL", 20)
    monkeypatch.setattr(bench.drive.loader, "CHECKPOINT", 40)
    committed = lambda client, batch: (client.loader.tasks_done, client.loader.usage_done)  # noqa: E731
    return (_spy(monkeypatch, Loader, "_commit"), _spy(monkeypatch, Client, "_recover", committed),
            _spy(monkeypatch, Loader, "_commit_small"))


def apply(server, template, ops: list[Op], path, bulk: bool, columns=()) -> tuple[dict[int, str], list, list]:
    """Apply `ops` to a fresh copy of `template`: each operation's outcome, then the usage and task rows (with the
    optional raw `columns` the client writes)."""
    with Database(server, START, template=template) as db:
        header = {"scenario": "client", **({"columns": {c.name: c.header() for c in columns}} if columns else {})}
        client = Client(db, 2, HistoryWriter(path, header), bulk=bulk, columns=columns)
        for op in [dataclasses.replace(op) for op in ops]:
            client.submit(op)
        client.close()
        client.history.close()
        with db.connect() as c:
            names = [*USAGE_COLUMNS, *(col.name for col in columns)]
            usage = c.execute(f"SELECT {', '.join(names)} FROM task_usage ORDER BY 1, 2, 3").fetchall()
            tasks = c.execute("SELECT id, agent_id, runtime_id, issue_id, status FROM agent_task_queue"
                              " ORDER BY id").fetchall()
    frame = History.load(path).ops
    return dict(zip(frame["i"], frame["outcome"])), usage, tasks


def assert_same_as_one_at_a_time(server, template, ops, tmp_path, columns=()) -> dict[int, str]:
    bulk = apply(server, template, ops, tmp_path / "bulk.jsonl", bulk=True, columns=columns)
    single = apply(server, template, ops, tmp_path / "single.jsonl", bulk=False, columns=columns)
    assert bulk[0] == single[0], "outcomes differ"
    assert bulk[1] == single[1], "usage rows differ"
    assert bulk[2] == single[2], "task rows differ"
    return bulk[0]


def test_bulk_path_leaves_the_rows_of_one_transaction_per_operation(server, reference_template, stream,
                                                                     small_chunks, tmp_path):
    outcomes = assert_same_as_one_at_a_time(server, reference_template, stream, tmp_path)
    commits, recovered, small = small_chunks
    assert len(commits) >= 5, "the stream should cross several chunks"
    assert len(small) >= 5, "and have small batches too"
    assert not recovered, "no batch should have needed the one-at-a-time recovery"
    assert set(outcomes.values()) == {"ok"}


def _inject(ops: list[Op], op_name: str, **value) -> tuple[list[Op], int]:
    """`ops` with one more operation, 280 operations into the first run of 300 bulk operations (one batch, and
    several chunks already written): the chunks before it commit before it fails."""
    run = 0
    for i, op in enumerate(ops):
        run = run + 1 if op.name in ("task", "usage") else 0
        if run == 300:
            at = i - 20
            extra = Op(op_name, ops[at].at, 0, value)
            return ops[:at + 1] + [extra] + ops[at + 1:], at + 1
    raise AssertionError("no run of 300 bulk operations in the stream")


def test_a_usage_row_failing_its_foreign_key_mid_batch(server, reference_template, stream, small_chunks, tmp_path):
    ops, bad = _inject(stream, "usage", task_id=MISSING_TASK, provider="anthropic", model="m", input=1,
                       output=1, cache_read=0, cache_write=0, created_at=None)
    outcomes = assert_same_as_one_at_a_time(server, reference_template, ops, tmp_path)
    assert [i for i, o in outcomes.items() if o != "ok"] == [bad]
    (tasks_done, usage_done), = small_chunks[1]  # one batch recovered…
    assert tasks_done > 0 and usage_done > 0  # …with its first chunks committed before the failing one


def test_a_duplicate_task_mid_batch(server, reference_template, stream, small_chunks, tmp_path):
    first = next(op for op in stream if op.name == "task")
    ops, bad = _inject(stream, "task", **first.value)
    outcomes = assert_same_as_one_at_a_time(server, reference_template, ops, tmp_path)
    assert [i for i, o in outcomes.items() if o != "ok"] == [bad]
    (tasks_done, usage_done), = small_chunks[1]
    assert tasks_done > 0 and usage_done > 0


@pytest.fixture(scope="module")
def costed_template(server):
    db = migrated_template(server, COSTED)
    yield db.name
    db.drop()


def test_bulk_path_writes_a_declared_column_like_one_at_a_time(server, costed_template, small_chunks, tmp_path):
    """The chain without the column is the test above (its statements the module's own: tests/test_measures.py)."""
    columns = Target.resolve(COSTED).usage_columns()
    ops = [op for op in generate(loads(STREAM), columns) if op.name in SINGLE]
    bulk = apply(server, costed_template, ops, tmp_path / "bulk.jsonl", bulk=True, columns=columns)
    single = apply(server, costed_template, ops, tmp_path / "single.jsonl", bulk=False, columns=columns)
    assert bulk == single and set(bulk[0].values()) == {"ok"}
    assert len(small_chunks[0]) >= 5 and len(small_chunks[2]) >= 5, "streamed chunks and small batches both"
    costs = [row[-1] for row in bulk[1]]
    assert 0 < costs.count(None) < len(costs), "some rows costed, some not"
