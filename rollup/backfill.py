"""The backfill command and the hook that runs before migration 103 (pipeline.md §5).

The backfill holds session lock 4246 for its whole run (ticks meanwhile return 0), runs the window over
consecutive UTC calendar months, each slice its own transaction, then stamps the watermark at now() − 5 min.
The standalone command bounds its months by max(created_at); the hook by max(coalesce(updated_at,
created_at)) — the difference is B6, kept on purpose.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psycopg

from rollup.database import Database
from rollup.pipeline import TICK_LOCK_KEY

STAMP_SQL = "UPDATE task_usage_hourly_rollup_state SET watermark_at = now() - interval '5 minutes' WHERE id = 1"


class BackfillError(RuntimeError):
    pass


@dataclass(frozen=True)
class Slice:
    start: datetime
    end: datetime

    def __str__(self) -> str:
        return f"{self.start:%Y-%m} [{self.start:%Y-%m-%d} .. {self.end:%Y-%m-%d})"


@dataclass
class BackfillResult:
    slices: list[Slice]
    rows: list[int] = field(default_factory=list)
    dry_run: bool = False


def _month_start(t: datetime) -> datetime:
    t = t.astimezone(UTC)
    return datetime(t.year, t.month, 1, tzinfo=UTC)


def _next_month(t: datetime) -> datetime:
    return datetime(t.year + t.month // 12, t.month % 12 + 1, 1, tzinfo=UTC)


def month_slices(first: datetime, last: datetime) -> list[Slice]:
    """UTC calendar months from the month of `first` through the month of `last`."""
    slices, start = [], _month_start(first)
    while start <= last:
        end = _next_month(start)
        slices.append(Slice(start, end))
        start = end
    return slices


def plan(db: Database, months_back: int | None = None, force: bool = False,
         newest: str = "created_at") -> list[Slice]:
    """The slices a backfill would run; `newest` is the SQL expression that bounds the last month."""
    with db.connect() as conn:
        first, last = conn.execute(f"SELECT min(created_at), max({newest}) FROM task_usage").fetchone()
    if first is None:
        return []
    slices = month_slices(first, last)
    if months_back is not None:
        if months_back < 1:
            raise BackfillError("--months-back must be at least 1")
        if months_back < len(slices) and not force:
            raise BackfillError(
                f"--months-back {months_back} would skip {len(slices) - months_back} month(s) of existing "
                f"history (from {slices[0].start:%Y-%m}); pass --force to do it anyway"
            )
        slices = slices[-months_back:]
    return slices


@dataclass(frozen=True)
class Options:
    """The standalone backfill's options: how many months back (None: all), past an existing rollup (`force`),
    only planned (`dry_run`), a pause between slices (s), the column that dates a row's newest write."""

    months_back: int | None = None
    force: bool = False
    dry_run: bool = False
    sleep: float = 0.0
    newest: str = "created_at"


def backfill(db: Database, options: Options | None = None, on_slice: Callable[[Slice, int], None] | None = None,
             conn: psycopg.Connection | None = None) -> BackfillResult:
    """The standalone backfill, on `conn` if given (it is closed at the end) or a new connection."""
    o = options or Options()
    months_back, force, dry_run, sleep, newest = o.months_back, o.force, o.dry_run, o.sleep, o.newest
    slices = plan(db, months_back, force, newest)
    result = BackfillResult(slices, dry_run=dry_run)
    if dry_run:
        if conn is not None:
            conn.close()
        return result
    with conn or db.connect(role="backfill") as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (TICK_LOCK_KEY,))
        try:
            for i, s in enumerate(slices):
                if i and sleep:
                    time.sleep(sleep)
                rows = conn.execute("SELECT rollup_task_usage_hourly_window(%s, %s)", (s.start, s.end)).fetchone()[0]
                result.rows.append(rows)
                if on_slice:
                    on_slice(s, rows)
            conn.execute(STAMP_SQL)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (TICK_LOCK_KEY,))
    return result


def pre_103_hook(db: Database) -> str:
    """Before 103: stamp an empty or nearly current rollup (without rolling up the gap: B7), else backfill."""
    with db.connect() as conn:
        if conn.execute("SELECT to_regclass('task_usage_hourly_rollup_state') IS NULL").fetchone()[0]:
            return "skipped: no hourly rollup state"
        has_rows, near = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM task_usage),"
            " (SELECT watermark_at FROM task_usage_hourly_rollup_state WHERE id = 1)"
            "   >= (SELECT max(coalesce(updated_at, created_at)) FROM task_usage) - interval '1 hour'"
        ).fetchone()
        if not has_rows or near:
            conn.execute(STAMP_SQL)
            return "stamped" if not has_rows else "stamped without rolling up the last hour"
    result = backfill(db, Options(newest="coalesce(updated_at, created_at)"))
    return f"backfilled {len(result.slices)} month(s)"
