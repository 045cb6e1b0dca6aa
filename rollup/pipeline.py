"""The pipeline's Python face: tick, window, prune, lag and the state row, called as the application calls them.

Ticks run on one persistent connection that is reused, as a pooled scheduler's are — which matters: a
session-scoped advisory lock leaked by a cancelled tick stays with that connection (L1).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from rollup.database import Database
from rollup.units import DAY, MINUTE

TICK_LOCK_KEY = 4246
# Facts of the pipeline every role reasons with (spec: pipeline.md), in microseconds:
ALLOWANCE = 5 * MINUTE  # the watermark's allowance for late visibility: a tick covers writes until now − 5 min
RETENTION = 7 * DAY  # the dirty queue's retention: prune drops rows older than this, read or not
CATCH_UP = DAY  # how far one tick moves a watermark that is far behind
FUSE_GRACE = 2.0  # seconds a timed-out statement that is not blocked gets to block before it is cancelled anyway


@dataclass(frozen=True)
class RollupState:
    watermark_at: datetime
    last_run_started_at: datetime | None
    last_run_finished_at: datetime | None
    last_run_rows: int
    last_error: str | None


class Pipeline:
    def __init__(self, db: Database):
        self.db = db
        self._conn: psycopg.Connection | None = None

    @property
    def conn(self) -> psycopg.Connection:
        """The reused connection ticks run on (opened on first use, reopened if it was lost)."""
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = self.db.connect(role="tick")
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _call(self, query: str, params: tuple = (), at: datetime | None = None,
              conn: psycopg.Connection | None = None, cancel_after: float | None = None,
              timeout_ms: int | None = None):
        conn = conn or self.conn
        done, fuse = threading.Event(), None
        if cancel_after is not None:  # the client gives up and cancels, as a scheduler's run timeout does
            fuse = threading.Thread(target=self._fuse, args=(conn, query, cancel_after, done), daemon=True)
            fuse.start()
        try:
            with self.db.clock.transaction(conn, at):
                if timeout_ms is not None:  # the server cancels the statement itself
                    conn.execute(f"SET LOCAL statement_timeout = {int(timeout_ms)}")
                return conn.execute(query, params).fetchone()[0]
        finally:
            done.set()
            if fuse:
                fuse.join()

    def _fuse(self, conn: psycopg.Connection, query: str, after: float, done: threading.Event) -> None:
        """The client's run timeout: `after` seconds in, cancel the call's own statement — not the transaction's
        setup, and never into nothing (a cancel that reaches an idle backend is lost, and the call would then
        wait for ever). A statement blocked on a lock is cancelled at once; one still running is given
        FUSE_GRACE more seconds to reach its lock, so a test that blocks it gets the same outcome every time."""
        if done.wait(after):
            return
        pid, grace = conn.info.backend_pid, time.monotonic() + FUSE_GRACE
        with self.db.connect() as watch:
            while not done.is_set():
                row = watch.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s AND state = 'active'"
                                    " AND query = %s", (pid, query)).fetchone()
                if row and (row[0] == "Lock" or time.monotonic() > grace):
                    conn.cancel_safe()
                done.wait(0.02)

    def tick(self, at: datetime | None = None, conn: psycopg.Connection | None = None,
             cancel_after: float | None = None, timeout_ms: int | None = None) -> int:
        """One `rollup_task_usage_hourly()` at simulated time `at` (default: the clock's now), optionally
        cancelled by the client after `cancel_after` seconds or by the server's statement_timeout."""
        return self._call("SELECT rollup_task_usage_hourly()", (), at, conn, cancel_after, timeout_ms)

    def window(self, p_from: datetime, p_to: datetime, at: datetime | None = None,
               conn: psycopg.Connection | None = None) -> int:
        return self._call("SELECT rollup_task_usage_hourly_window(%s, %s)", (p_from, p_to), at, conn)

    def prune(self, retention: timedelta = timedelta(microseconds=RETENTION), at: datetime | None = None) -> int:
        return self._call("SELECT prune_task_usage_hourly_dirty(%s)", (retention,), at)

    def lag_seconds(self, at: datetime | None = None) -> float | None:
        lag = self._call("SELECT task_usage_hourly_rollup_lag_seconds()", (), at)
        return None if lag is None else float(lag)

    def state(self) -> RollupState:
        with self.db.connect() as conn:
            row = conn.execute(
                "SELECT watermark_at, last_run_started_at, last_run_finished_at, last_run_rows, last_error"
                " FROM task_usage_hourly_rollup_state WHERE id = 1"
            ).fetchone()
        return RollupState(*row)

    def dirty_count(self) -> int:
        with self.db.connect() as conn:
            return conn.execute("SELECT count(*) FROM task_usage_hourly_dirty").fetchone()[0]

    def holds_tick_lock(self, conn: psycopg.Connection | None = None) -> bool:
        """Whether the given (default: the tick) connection's session holds advisory lock 4246."""
        conn = conn or self.conn
        return conn.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
            " AND objid = %s AND granted)", (TICK_LOCK_KEY,)
        ).fetchone()[0]
