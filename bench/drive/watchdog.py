"""A run's watchdog: no statement of a run waits without a bound (docs/verdict.md#deadlines).

A thread with a connection of its own looks at the run's database every POLL seconds. A statement active for
longer than the deadline — waiting on a lock a session never releases (a leaked advisory lock: L1), or never
returning (a tick in an endless loop) — is described (what it runs, what it waits on, which sessions block it and
what they last ran) and cancelled from that connection: a wait inside libpq never returns to Python, so only the
server can end it. The run then fails with that description (`Stuck`, exit 1: the target's failure), and a batch
goes on to its next run. From then on every statement still running after TRIPPED_GRACE is cancelled too, so the
run unwinds in seconds whatever else waits behind the same lock.

The deadline: a tick's work in the bench's scenarios takes well under a second, a bulk load a few seconds, so
DEADLINE (30 s, or ROLLUP_BENCH_DEADLINE seconds) is far from any healthy statement even on a loaded 2-core
runner, and a stuck run fails within a minute of its start.
"""

from __future__ import annotations

import os
import threading

import psycopg

from rollup.database import Database

DEADLINE = float(os.environ.get("ROLLUP_BENCH_DEADLINE") or 30)  # seconds a statement of a run may be active
POLL = 0.5  # seconds between looks
TRIPPED_GRACE = 1.0  # seconds any statement may still run once the run is stuck

LOOK = """
SELECT a.pid, extract(epoch FROM pg_catalog.clock_timestamp() - a.query_start)::float8, a.wait_event_type,
       a.wait_event, left(regexp_replace(a.query, '\\s+', ' ', 'g'), 120),
       (SELECT string_agg(CASE WHEN l.locktype = 'advisory' THEN 'advisory lock ' || l.objid
                               ELSE l.locktype || ' lock' END, ', ')
          FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted),
       (SELECT string_agg(format('pid %%s (%%s, last statement: %%s)', b.pid, b.state,
                                 left(regexp_replace(b.query, '\\s+', ' ', 'g'), 80)), '; ')
          FROM pg_stat_activity b WHERE b.pid = ANY (pg_blocking_pids(a.pid)))
  FROM pg_stat_activity a
 WHERE a.datname = current_database() AND a.state = 'active' AND a.pid <> pg_backend_pid()
   AND a.backend_type = 'client backend'
   AND pg_catalog.clock_timestamp() - a.query_start > make_interval(secs => %s)
 ORDER BY a.query_start
"""


class Stuck(RuntimeError):
    """A statement of the run passed its deadline; says what it waited on and for how long."""


def describe(row: tuple, deadline: float) -> str:
    pid, seconds, wait_type, wait_event, query, locks, blockers = row
    text = f"`{query}` (pid {pid}) ran {seconds:.0f} s"
    if wait_type:
        text += f" waiting on {wait_type}:{wait_event}" + (f" ({locks})" if locks else "")
    if blockers:
        text += f", held by {blockers}"
    return text + f"; cancelled at the run's deadline of {deadline:g} s (ROLLUP_BENCH_DEADLINE)"


class Watchdog:
    def __init__(self, db: Database, deadline: float | None = None, poll: float = POLL):
        self.db, self.deadline, self.poll = db, DEADLINE if deadline is None else deadline, poll
        self.stuck: str | None = None  # the first statement past the deadline, described
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="run-watchdog", daemon=True)
        self._thread.start()

    @property
    def tripped(self) -> bool:
        return self.stuck is not None

    def _watch(self) -> None:
        try:
            with self.db.connect() as conn:
                while not self._done.wait(self.poll):
                    limit = TRIPPED_GRACE if self.tripped else self.deadline
                    for row in conn.execute(LOOK, (limit,)).fetchall():
                        if self.stuck is None:
                            self.stuck = describe(row, self.deadline)
                        conn.execute("SELECT pg_cancel_backend(%s)", (row[0],))
        except psycopg.Error:
            pass  # the server went away or the database was dropped: the run itself reports that

    def check(self, doing: str) -> None:
        """Raise Stuck if a statement passed its deadline, naming what the run was doing (`doing`)."""
        if self.stuck is not None:
            raise Stuck(f"{doing}: {self.stuck}")

    def stop(self) -> None:
        self._done.set()
        self._thread.join(timeout=self.poll + 10)
