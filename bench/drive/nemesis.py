"""The nemesis: faults and interleavings imposed on a target from outside, never by editing its SQL.

- sessions that hold a transaction open across other steps (a late commit, B4) or hold row locks that the
  target's own statements must wait for (honest waitpoints: B3, B9, L1);
- work started in the background — a tick or a backfill on its own connection — that can be waited on until
  it blocks, cancelled (pg_cancel_backend), terminated (pg_terminate_backend), or awaited;
- a server restart, where the backend allows it.
Each is an operation in the history, so a replay imposes the same faults at the same points.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg

from rollup.clock import from_us, start_at
from rollup.database import Database

BLOCKED_WITHIN = 10.0  # seconds a background statement gets to reach its waitpoint

LOCKS = {
    # Rollup rows of a task's usage: the window's upsert of those keys must wait.
    "rollup": "SELECT 1 FROM task_usage_hourly h JOIN agent_task_queue t ON t.agent_id = h.agent_id"
              " AND t.runtime_id = h.runtime_id JOIN task_usage u ON u.task_id = t.id AND u.provider = h.provider"
              " AND u.model = h.model AND h.bucket_hour = date_trunc('hour', u.created_at AT TIME ZONE 'UTC')"
              " AT TIME ZONE 'UTC' WHERE t.id = %(task_id)s FOR UPDATE OF h",
    # The state row: a tick waits on its first UPDATE.
    "state": "SELECT 1 FROM task_usage_hourly_rollup_state WHERE id = 1 FOR UPDATE",
    # A task's usage rows: the application's upsert of them waits.
    "usage": "SELECT 1 FROM task_usage WHERE task_id = %(task_id)s FOR UPDATE",
}


@dataclass
class Background:
    """Work running on its own thread and connection, until awaited."""

    thread: threading.Thread
    pid: int
    result: list = field(default_factory=list)  # [value] or [exception]

    def join(self):
        self.thread.join()
        outcome = self.result[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


class Nemesis:
    def __init__(self, db: Database):
        self.db = db
        self.held: dict[int, psycopg.Connection] = {}
        self.background: dict[str, Background] = {}

    # ------------------------------------------------------------------ held transactions and locks

    def begin(self, session: int, at: int) -> None:
        if session in self.held:
            raise RuntimeError(f"session {session} already has an open transaction")
        conn = self.db.connect(autocommit=False, role=f"session-{session}")
        start_at(conn, from_us(at))
        self.held[session] = conn

    def end(self, session: int, commit: bool) -> None:
        conn = self.held.pop(session)
        try:
            conn.commit() if commit else conn.rollback()
        finally:
            conn.close()

    def lock(self, session: int, at: int, target: str, task_id: str | None) -> int:
        if session not in self.held:
            self.begin(session, at)
        return self.held[session].execute(LOCKS[target], {"task_id": task_id}).rowcount

    # ------------------------------------------------------------------ background work

    def start(self, name: str, conn: psycopg.Connection, work: Callable[[], object]) -> None:
        if name in self.background:
            raise RuntimeError(f"{name!r} is still running: await it first")
        holder: list = []

        def run():
            try:
                holder.append(work())
            except BaseException as exc:  # handed to whoever awaits it
                holder.append(exc)

        thread = threading.Thread(target=run, name=f"nemesis-{name}", daemon=True)
        self.background[name] = Background(thread, conn.info.backend_pid, holder)
        thread.start()

    def wait(self, name: str):
        return self.background.pop(name).join()

    def wait_blocked(self, name: str) -> str:
        """Return once the named work's backend waits on a lock (its waitpoint), or fail after 10 s."""
        bg = self.background[name]
        deadline = time.monotonic() + BLOCKED_WITHIN
        row = None
        with self.db.connect() as conn:
            while time.monotonic() < deadline:
                row = conn.execute("SELECT wait_event_type, wait_event, state, left(query, 80) FROM pg_stat_activity"
                                   " WHERE pid = %s", (bg.pid,)).fetchone()
                if row and row[0] == "Lock":
                    return f"{row[0]}:{row[1]}"
                if not bg.thread.is_alive():
                    raise RuntimeError(f"{name!r} finished before reaching a waitpoint")
                time.sleep(0.005)
        seen = f" (last seen {row[2]}, waiting on {row[0] or 'nothing'}: {row[3]})" if row else ""
        raise RuntimeError(f"{name!r} did not reach a lock wait within {BLOCKED_WITHIN:.0f} s{seen}")

    def signal(self, name: str, how: str) -> bool:
        """Cancel (pg_cancel_backend) or terminate (pg_terminate_backend) the named work's backend."""
        pid = self.background[name].pid
        function = "pg_terminate_backend" if how == "terminate" else "pg_cancel_backend"
        with self.db.connect() as conn:
            return conn.execute(f"SELECT {function}(%s)", (pid,)).fetchone()[0]

    def close(self) -> None:
        for conn in self.held.values():
            conn.close()
        self.held.clear()
        for bg in self.background.values():
            bg.thread.join(timeout=5)
        self.background.clear()
