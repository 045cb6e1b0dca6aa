"""A small tenant to write usage against, and readers for the rollup's state."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from bench.workload import app
from rollup.database import Database
from rollup.pipeline import TICK_LOCK_KEY

KEY = ("bucket_hour", "workspace_id", "runtime_id", "agent_id", "project_id", "provider", "model")


@dataclass
class World:
    """One workspace with a user, two runtimes, two agents on the first runtime, two projects and an issue."""

    db: Database

    def __post_init__(self):
        with self.db.connect() as c:
            self.ws = app.create_workspace(c)
            self.user = app.create_user(c, timezone="America/Los_Angeles")
            self.r1 = app.create_runtime(c, self.ws)
            self.r2 = app.create_runtime(c, self.ws)
            self.a1 = app.create_agent(c, self.ws, self.r1)
            self.a2 = app.create_agent(c, self.ws, self.r1)
            self.p1 = app.create_project(c, self.ws)
            self.p2 = app.create_project(c, self.ws)
            self.i1 = app.create_issue(c, self.ws, self.user, self.p1)

    def task(self, agent=None, runtime="r1", issue="i1"):
        with self.db.connect() as c:
            return app.create_task(c, agent or self.a1, getattr(self, runtime) if runtime else None,
                                   getattr(self, issue) if issue else None)

    def usage(self, task, at: datetime, input=0, output=0, cache_read=0, cache_write=0,
              provider="anthropic", model="claude-sonnet", created_at=None):
        """Write a usage report in a transaction that starts at simulated time `at`."""
        with self.db.connect() as c, self.db.clock.transaction(c, at):
            app.upsert_usage(c, app.Usage(task, provider, model, input, output, cache_read, cache_write, created_at))

    def sql(self, query, params=(), at: datetime | None = None):
        with self.db.connect() as c, self.db.clock.transaction(c, at):
            cur = c.execute(query, params)
            return cur.fetchall() if cur.description else cur.rowcount


def hourly(db: Database) -> list[dict]:
    """task_usage_hourly as dicts, in key order."""
    with db.connect() as c, c.cursor() as cur:
        cur.execute(f"SELECT * FROM task_usage_hourly ORDER BY {', '.join(KEY)}")
        cols = [d.name for d in cur.description]
        return [dict(zip(cols, row)) for row in cur.fetchall()]


def buckets(db: Database) -> dict[tuple, int]:
    """(bucket_hour, runtime, agent, project) -> input_tokens, the short view most tests compare."""
    return {(r["bucket_hour"], r["runtime_id"], r["agent_id"], r["project_id"]): r["input_tokens"] for r in hourly(db)}


TRUTH_SQL = """
SELECT date_trunc('hour', tu.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', a.workspace_id, t.runtime_id,
       t.agent_id, i.project_id, sum(tu.input_tokens)
  FROM task_usage tu JOIN agent_task_queue t ON t.id = tu.task_id JOIN agent a ON a.id = t.agent_id
  LEFT JOIN issue i ON i.id = t.issue_id
 WHERE t.runtime_id IS NOT NULL
 GROUP BY 1, 2, 3, 4, 5
"""


def raw_buckets(db: Database) -> dict[tuple, int]:
    """What `buckets` should be: the same view computed from the raw tables."""
    with db.connect() as c:
        return {(r[0], r[2], r[3], r[4]): r[5] for r in c.execute(TRUTH_SQL)}


def wait_released(db: Database, deadline: float = 10.0) -> None:
    """Wait until no session holds lock 4246 (a closed session's backend exits asynchronously)."""
    end = time.monotonic() + deadline
    with db.connect() as c:
        while c.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND granted",
                        (TICK_LOCK_KEY,)).fetchone()[0]:
            assert time.monotonic() < end, "lock 4246 still held"
            time.sleep(0.01)


def concurrent_ticks(db: Database, pipeline, at, sessions: int = 6) -> list[int]:
    """`sessions` ticks at the same simulated instant, each on its own connection, released together."""
    conns = [db.connect() for _ in range(sessions)]
    barrier, results = threading.Barrier(sessions), [None] * sessions

    def run(i):
        barrier.wait()
        results[i] = pipeline.tick(at=at, conn=conns[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for c in conns:
        c.close()
    return results


# Half a day of a small generated workload with late commits and server restarts, for batches: a restart in one
# run must not restart another worker's server. The reference may diverge on it (late commits are B4's
# mechanism); hardened converges.
MINI = """
[scenario]
name = "mini"
seed = 1
duration = "12h"
[tenants]
workspaces = 2
issues = 4
[rates]
tasks_per_hour = 4.0
[operations]
per_hour = 1.0
[pipeline]
check_every = "6h"
[zones]
view = ["UTC", "Asia/Kolkata"]
[faults]
late_commits = 6
restarts = 4
"""


def request(scenario, target: str, report_dir, read_side: str | None = None, seed: int | None = None,
            accept: tuple[str, ...] | None = None):
    """A run request for a scenario's text (or file), on a target, writing in report_dir (`accept`: a baseline of
    catalogue ids to judge it against)."""
    from pathlib import Path

    from bench.orchestrate.request import RunRequest, ScenarioText

    text = ScenarioText.read(scenario) if isinstance(scenario, Path) else ScenarioText(scenario, "<string>")
    return RunRequest(text, target, seed, read_side=read_side, report_dir=report_dir, accept=accept)
