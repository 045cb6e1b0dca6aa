"""One tick, measured from outside the target's SQL: wall duration, what PostgreSQL's own statistics say it
read and wrote, queue depth, watermark lag, WAL and temp bytes, sizes — and, on sampled ticks, the split of its
cost into the statements it ran (auto_explain's nested plans, received as notices).

Counts come from `pg_stat_xact_user_tables`, read inside the tick's own transaction before it commits, so they
are exact for that tick whatever else runs. Temp bytes and dead tuples are cumulative statistics, flushed on
demand (`pg_stat_force_next_flush`, PostgreSQL 15 and later).
"""

from __future__ import annotations

import json
import time

import psycopg
from datetime import datetime

from rollup.clock import start_at
from rollup.database import Database

QUEUE = "task_usage_hourly_dirty"
RAW = "task_usage"
_STATS = """SELECT relname, seq_tup_read + coalesce(idx_tup_fetch, 0), n_tup_ins, n_tup_upd, n_tup_del
              FROM pg_stat_xact_user_tables WHERE relname = ANY(%s)"""
_AFTER = """SELECT (SELECT temp_bytes FROM pg_stat_database WHERE datname = current_database()),
                   (SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = %s),
                   (SELECT watermark_at FROM task_usage_hourly_rollup_state WHERE id = 1),
                   (SELECT count(*) FROM task_usage_hourly_dirty)"""
_EXPLAIN_ON = ("LOAD 'auto_explain'", "SET auto_explain.log_min_duration = 0", "SET auto_explain.log_analyze = on",
               "SET auto_explain.log_buffers = on", "SET auto_explain.log_nested_statements = on",
               "SET auto_explain.log_format = json", "SET auto_explain.log_level = notice")


class TickCapped(Exception):
    """A tick cancelled at its cap: the run's cap for a target is a multiple of its baseline's slowest tick, so a
    regression whose every tick costs minutes fails in seconds (bench/capacity/run.py)."""

    def __init__(self, cap_ms: float):
        super().__init__(f"a tick ran past its cap of {cap_ms:,.0f} ms and was cancelled")
        self.cap_ms = cap_ms


class Probe:
    """Measures ticks run on one reused connection (as a pooled scheduler's are)."""

    def __init__(self, db: Database, cost=None):
        """`cost(record) -> ms`, when given, stands in for the measured duration (kept as `measured_ms`): tests
        judge the machinery on a known cost model of the tick's exact counts, never on the machine's speed."""
        self.db = db
        self.cost = cost
        self.cap_ms: float | None = None  # statement_timeout of every tick (None: none)
        self.conn = db.connect()
        self.rollups = [r for (r,) in self.conn.execute(
            "SELECT relname::text FROM pg_class WHERE relkind = 'r' AND relname IN"
            " ('task_usage_hourly', 'task_usage_quarter_hourly') ORDER BY relname")]  # fmt: skip
        self.tables = [RAW, QUEUE, *self.rollups]
        self._notices: list[str] = []
        self.conn.add_notice_handler(lambda d: self._notices.append(d.message_primary or ""))
        self._temp = self._after()[0]

    def close(self) -> None:
        self.conn.close()

    def _after(self) -> tuple:
        self.conn.execute("SELECT pg_stat_force_next_flush()")  # flushed when this backend next goes idle
        return self.conn.execute(_AFTER, (QUEUE,)).fetchone()

    def queue_depth(self) -> int:
        return self.conn.execute("SELECT count(*) FROM task_usage_hourly_dirty").fetchone()[0]

    def tick(self, at: datetime, explain: bool = False) -> dict:
        """Run `rollup_task_usage_hourly()` at simulated time `at`; return its record. With `explain`, the
        statements it ran are timed by auto_explain (slower: keep such ticks out of the figures)."""
        conn = self.conn
        queue_before = self.queue_depth()
        lsn0 = conn.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]
        if explain:
            for s in _EXPLAIN_ON:
                conn.execute(s)
            self._notices.clear()
        try:
            with conn.transaction():
                start_at(conn, at)
                if self.cap_ms:
                    conn.execute(f"SET LOCAL statement_timeout = {max(1, round(self.cap_ms))}")
                t0 = time.perf_counter()
                try:
                    rows = conn.execute("SELECT rollup_task_usage_hourly()").fetchone()[0]
                except psycopg.errors.QueryCanceled as exc:
                    if not self.cap_ms:
                        raise
                    raise TickCapped(self.cap_ms) from exc
                t1 = time.perf_counter()
                stats = {r[0]: r[1:] for r in conn.execute(_STATS, (self.tables,))}
                t2 = time.perf_counter()
            t3 = time.perf_counter()
        finally:
            if explain:
                conn.execute("SET auto_explain.log_min_duration = -1")
        wal = conn.execute("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), %s)::bigint", (lsn0,)).fetchone()[0]
        temp, dead, watermark, queue_after = self._after()
        sizes = dict(conn.execute(
            "SELECT relname::text, pg_table_size(oid) + pg_indexes_size(oid) FROM pg_class"
            " WHERE relkind = 'r' AND relname = ANY(%s)", (self.tables,)).fetchall())  # fmt: skip
        zero = (0, 0, 0, 0)
        raw, queue = stats.get(RAW, zero), stats.get(QUEUE, zero)
        rollup = [stats.get(t, zero) for t in self.rollups]
        record = {
            "d_ms": ((t1 - t0) + (t3 - t2)) * 1000,  # the tick and its commit, not the statistics query
            "rows": rows, "raw_rows_read": raw[0],
            "upserted": sum(r[1] + r[2] for r in rollup[:1]), "deleted": sum(r[3] for r in rollup[:1]),
            "fine_upserted": sum(r[1] + r[2] for r in rollup[1:]), "fine_deleted": sum(r[3] for r in rollup[1:]),
            "queue_drained": queue[3], "queue_before": queue_before, "queue_after": queue_after,
            "queue_dead": dead or 0, "watermark_lag_s": (at - watermark).total_seconds(),
            "wal_bytes": wal, "temp_bytes": (temp or 0) - (self._temp or 0),
            **{f"size_{k}": v for k, v in sizes.items()},
        }  # fmt: skip
        self._temp = temp
        if self.cost is not None:
            record["measured_ms"], record["d_ms"] = record["d_ms"], float(self.cost(record))
        if explain:
            record["phases"] = self._phases()
        return record

    def _phases(self) -> list[dict]:
        """The statements auto_explain timed, outermost last, as {query, ms, buffers}."""
        out = []
        for text in self._notices:
            head, _, body = text.partition("plan:")
            try:
                plan = json.loads(body)
                ms = float(head.split("duration:")[1].split("ms")[0])
            except (ValueError, IndexError):
                continue
            node = plan.get("Plan", {})
            out.append({"query": " ".join(plan.get("Query Text", "").split())[:120], "ms": ms,
                        "shared_hit": node.get("Shared Hit Blocks", 0), "shared_read": node.get("Shared Read Blocks", 0),
                        "temp_written": node.get("Temp Written Blocks", 0)})  # fmt: skip
        return out
