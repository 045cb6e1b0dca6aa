"""How fast the client applies a generated stream, against a plain COPY of the same rows in the same run.

The client's path: operations in history order, runs of usage reports applied in bulk, every operation recorded
in the history. Two shapes: a bulk history load (nothing forces a flush), and a simulated run, where a tick every
5 simulated minutes forces the pending batch out. The baseline COPYs the tasks and the final usage rows the
client produced straight into the same schema, in the same run. Each round measures both, one after the other;
the figure is the median of the rounds' ratios (this machine's timings vary by ±10% from run to run).
"""

from __future__ import annotations

import statistics
import time

import pytest
from datetime import UTC, datetime

from bench.client import Client
from bench.loader import USAGE_COLUMNS
from bench.generator import generate
from bench.history import HistoryWriter
from bench.scenario import loads
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


@pytest.mark.parametrize("reports", ["[1, 1]", "[1, 3]"], ids=["one-report-per-row", "re-reports"])
@pytest.mark.parametrize("flush_every", [None, FLUSH_EVERY], ids=["bulk-load", "ticking-every-5min"])
def test_client_apply_rate_vs_plain_copy(embedded, tmp_path, benchmark, reports, flush_every):
    ops = [op for op in generate(loads(SCENARIO.format(reports=reports))) if op.name != "check"]
    flush_every = flush_every or 2**62
    results = {"apply": [], "copy": []}

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
                tasks = c.execute("SELECT id, agent_id, runtime_id, issue_id, status FROM agent_task_queue"
                                  " WHERE status = 'completed'").fetchall()
                usage = c.execute(f"SELECT {', '.join(USAGE_COLUMNS)} FROM task_usage").fetchall()
            client.close()
        with _database(embedded) as db:
            setup = [op for op in ops if op.name not in ("task", "usage")]
            client = Client(db, 1, HistoryWriter(tmp_path / "setup.jsonl", {"scenario": "setup"}))
            for op in setup:
                client.submit(op)
            client.close()
            with db.connect() as c:
                started = time.perf_counter()
                with c.transaction():
                    with c.cursor().copy("COPY agent_task_queue (id, agent_id, runtime_id, issue_id, status) FROM STDIN") as cp:
                        for row in tasks:
                            cp.write_row(row)
                    with c.cursor().copy(f"COPY task_usage ({', '.join(USAGE_COLUMNS)}) FROM STDIN") as cp:
                        for row in usage:
                            cp.write_row(row)
                results["copy"].append(time.perf_counter() - started)
        results["rows"] = len(usage)
        results["ops"] = len(ops)

    benchmark.pedantic(apply, rounds=ROUNDS, iterations=1)
    ratios = [c / a for a, c in zip(results["apply"], results["copy"])]
    ratio = statistics.median(ratios)
    benchmark.extra_info.update(results, ratios=ratios, ratio=ratio)
    print(f"\napply {results['ops']} ops ({results['rows']} usage rows) in "
          f"{statistics.median(results['apply']):.2f}s; plain COPY {statistics.median(results['copy']):.2f}s "
          f"(medians of {ROUNDS}); apply rate = {ratio:.2f} x COPY rate (rounds: "
          f"{', '.join(f'{r:.2f}' for r in ratios)})")
