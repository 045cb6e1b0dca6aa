"""Simulated time that the target's own `now()` follows.

The clock lives in the database (`sql/clock.sql`): a schema whose `now()` stands ahead of pg_catalog in the
database's search_path. Python moves the shared clock, and any transaction can be started "at" a chosen instant
(a writer that began before a tick and commits after it, for instance).
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Iterator

import psycopg
from psycopg import sql

CLOCK_SCHEMA = "rollup_clock"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def to_us(t: datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime."""
    if t.tzinfo is None:
        raise ValueError(f"naive datetime {t!r}: simulated time must carry a timezone")
    return (t - EPOCH) // _US


def from_us(us: int) -> datetime:
    return EPOCH + us * _US


def install(conn: psycopg.Connection, dbname: str) -> None:
    """Install the clock in a fresh database and route `now()` through it for every later session."""
    conn.execute((Path(__file__).parent / "sql" / "clock.sql").read_text())
    route(conn, dbname)


def route(conn: psycopg.Connection, dbname: str) -> None:
    """Put the clock ahead of pg_catalog in the database's search_path (not copied from a template)."""
    path = sql.SQL('"$user", public, {}, pg_catalog').format(sql.Identifier(CLOCK_SCHEMA))
    conn.execute(sql.SQL("ALTER DATABASE {} SET search_path = ").format(sql.Identifier(dbname)) + path)
    conn.execute(sql.SQL("SET search_path = ") + path)


class SimClock:
    """The shared simulated clock of one database."""

    def __init__(self, conninfo: str, start: datetime):
        self._conninfo = conninfo
        self._conn: psycopg.Connection | None = None
        self.set(start)

    @property
    def now(self) -> datetime:
        return self._now

    def set(self, t: datetime) -> datetime:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = psycopg.connect(self._conninfo, autocommit=True)
        self._conn.execute("UPDATE rollup_clock.clock SET now_us = %s", (to_us(t),))
        self._now = t.astimezone(UTC)
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        return self.set(self._now + delta)

    def close(self) -> None:
        """Drop the clock's own connection (reopened by the next set)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @contextmanager
    def transaction(self, conn: psycopg.Connection, at: datetime | None = None) -> Iterator[psycopg.Connection]:
        """A transaction on `conn` whose now() is `at` (default: the clock's current time)."""
        with conn.transaction():
            start_at(conn, at or self._now)
            yield conn


def start_at(conn: psycopg.Connection, at: datetime) -> None:
    """Fix now() for the transaction in progress on `conn`; must come before anything reads the clock."""
    conn.execute("SELECT set_config('rollup_clock.txn_now', %s, true)", (str(to_us(at)),))


# ---------------------------------------------------------------- clocks the bench cannot steer

_UNSTEERABLE = re.compile(
    r"\b(current_timestamp|localtimestamp|clock_timestamp\s*\(|statement_timestamp\s*\(|"
    r"transaction_timestamp\s*\(|pg_catalog\s*\.\s*now\s*\()|'now'",
    re.IGNORECASE,
)
_SEARCH_PATH_PIN = re.compile(r"\bset\s+search_path\b", re.IGNORECASE)


@dataclass(frozen=True)
class ClockWarning:
    file: Path
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.file.name}:{self.line}: {self.what}"


def scan(files: list[Path]) -> list[ClockWarning]:
    """Places in migration files that read a clock the bench cannot steer, or that pin search_path."""
    found = []
    for f in files:
        for n, line in enumerate(f.read_text().splitlines(), 1):
            code = line.split("--", 1)[0]
            for m in _UNSTEERABLE.finditer(code):
                found.append(ClockWarning(f, n, f"{m.group(0).rstrip('( ')} does not follow the simulated clock"))
            if _SEARCH_PATH_PIN.search(code):
                found.append(ClockWarning(f, n, "SET search_path may hide the simulated now()"))
    return found
