"""How fast the client applies a generated stream, against a plain COPY of the same rows in the same run.

The client's path: operations in history order, runs of usage reports applied in bulk, every operation recorded
in the history. Two shapes: a bulk history load (nothing forces a flush), and a simulated run, where a tick every
5 simulated minutes forces the pending batch out. The baseline COPYs the tasks and the final usage rows the
client produced straight into the same schema, committing where the client had to: once for the bulk load, and
for the ticking shape once per 5-minute window (each row in the window of its task or first report) — and, for
comparison, once in all. Each round measures all, one after the other; the figures are medians of the rounds'
ratios (this machine's timings vary by ±10% from run to run).
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime

import pytest

from bench.drive.client import Client, usage_key
from bench.drive.history import HistoryWriter
from bench.drive.loader import TASK_COLUMNS, USAGE_COLUMNS
from bench.workload.generator import generate
from bench.workload.ops import Op
from bench.workload.scenario import loads
from rollup.database import Database
from rollup.migrations import Runner, Target

SCENARIO = """
[scenario]
name = "apply-speed"
seed = 5
duration = "4d"
[tenants]
workspaces = 8
[rates]
tasks_per_hour = 60.0
reports_per_row = {reports}
[operations]
per_hour = 0.0
[zones]
view = ["UTC"]
"""
FLUSH_EVERY = 5 * 60 * 1_000_000
ROUNDS = 3


def _database(server) -> Database:
    db = Database(server, datetime(2026, 3, 1, tzinfo=UTC))
    Runner(db, Target.resolve("reference")).up()
    return db


def _windows(ops: list[Op], flush_every: int) -> tuple[dict, dict]:
    """The flush window of each task and of each usage row's first report, as the client's loop cuts them."""
    tasks, usage, window, edge = {}, {}, 0, ops[0].at + flush_every
    for op in ops:
        if op.at >= edge:
            window, edge = window + 1, op.at + flush_every
        if op.name == "task":
            tasks[op.value["id"]] = window
        elif op.name == "usage":
            usage.setdefault(usage_key(op.value), window)
    return tasks, usage


def _plain_copy(conn, groups: list[tuple[list, list]]) -> float:
    """COPY each group's tasks then usage rows, one transaction per group; the wall time."""
    started = time.perf_counter()
    for tasks, usage in groups:
        with conn.transaction():
            with conn.cursor().copy(f"COPY agent_task_queue ({', '.join(TASK_COLUMNS)}) FROM STDIN") as cp:
                for row in tasks:
                    cp.write_row(row)
            with conn.cursor().copy(f"COPY task_usage ({', '.join(USAGE_COLUMNS)}) FROM STDIN") as cp:
                for row in usage:
                    cp.write_row(row)
    return time.perf_counter() - started


@pytest.mark.parametrize("reports", ["[1, 1]", "[1, 3]"], ids=["one-report-per-row", "re-reports"])
@pytest.mark.parametrize("flush_every", [None, FLUSH_EVERY], ids=["bulk-load", "ticking-every-5min"])
def test_client_apply_rate_vs_plain_copy(embedded, tmp_path, benchmark, reports, flush_every):
    ops = [op for op in generate(loads(SCENARIO.format(reports=reports))) if op.name != "check"]
    ticking = flush_every is not None
    flush_every = flush_every or 2**62
    task_window, usage_window = _windows(ops, flush_every)
    results = {"apply": [], "copy": [], "copy_once": []}

    def setup_only(db: Database) -> None:
        client = Client(db, 1, HistoryWriter(tmp_path / "setup.jsonl", {"scenario": "setup"}))
        for op in ops:
            if op.name not in ("task", "usage"):
                client.submit(op)
        client.close()

    def apply():
        with _database(embedded) as db:
            client = Client(db, 2, HistoryWriter(tmp_path / "h.jsonl", {"scenario": "apply-speed"}))
            started, edge = time.perf_counter(), ops[0].at + flush_every
            for op in ops:
                if op.at >= edge:
                    client.flush()
                    edge = op.at + flush_every
                client.submit(op)
            client.flush()
            results["apply"].append(time.perf_counter() - started)
            with db.connect() as c:
                tasks = c.execute(f"SELECT {', '.join(TASK_COLUMNS)} FROM agent_task_queue").fetchall()
                usage = c.execute(f"SELECT {', '.join(USAGE_COLUMNS)} FROM task_usage").fetchall()
            client.close()
        groups = [([], []) for _ in range(max(task_window.values()) + 1)]
        for row in tasks:
            groups[task_window[str(row[0])]][0].append(row)
        for row in usage:
            groups[usage_window[(str(row[0]), row[1], row[2])]][1].append(row)
        for key, runs in (("copy", groups), ("copy_once", [(tasks, usage)])):
            if key == "copy_once" and not ticking:
                continue  # one window already
            with _database(embedded) as db:
                setup_only(db)
                with db.connect() as c:
                    results[key].append(_plain_copy(c, runs))
        results["rows"], results["ops"] = len(usage), len(ops)

    benchmark.pedantic(apply, rounds=ROUNDS, iterations=1)
    ratios = [c / a for a, c in zip(results["apply"], results["copy"])]
    ratio = statistics.median(ratios)
    benchmark.extra_info.update(results, ratios=ratios, ratio=ratio)
    print(f"\napply {results['ops']} ops ({results['rows']} usage rows) in "
          f"{statistics.median(results['apply']):.2f}s; plain COPY {statistics.median(results['copy']):.2f}s "
          f"(medians of {ROUNDS}); apply rate = {ratio:.2f} x COPY rate (rounds: "
          f"{', '.join(f'{r:.2f}' for r in ratios)})")
    if ticking:
        once = statistics.median(c / a for a, c in zip(results["apply"], results["copy_once"]))
        print(f"  against one COPY of everything in a single transaction "
              f"({statistics.median(results['copy_once']):.2f}s): {once:.2f} x")
