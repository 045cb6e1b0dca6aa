"""Reading TOML against a declared schema, shared by scenarios, capacity specs and project configurations.

A `Table` is one TOML table being validated: its allowed keys, then typed reads with defaults and range checks,
each field declared where it is read. Every problem is a `ScenarioError` whose text is one line, file:line: key:
message; `Locator` finds the line, which tomllib does not give.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from bench.workload import zones as tz
from rollup.tomllines import Locator

_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
# Integers a field may hold: what PostgreSQL's bigint and numpy's int64 hold (TOML's own limit, which tomllib
# does not enforce).
INT_RANGE = (-(2**63), 2**63 - 1)
# Instants a scenario may start at: after the Unix epoch (the simulated clock counts µs from it) and well inside
# what Python's datetime, zoneinfo and PostgreSQL's timestamps represent, with room for a run of 400 days and
# a report window or backdated usage before it.
INSTANTS = (datetime(1971, 1, 1, tzinfo=UTC), datetime(3000, 1, 1, tzinfo=UTC))
_TYPES = {dict: "table", list: "array", str: "string", bool: "boolean", int: "integer", datetime: "offset datetime"}


class ScenarioError(ValueError):
    """A problem in a scenario file; str() is one line: file:line: key: message."""

    def __init__(self, file: str, key: str, line: int | None, message: str) -> None:
        self.file, self.key, self.line, self.message = file, key, line, " ".join(message.split())
        super().__init__(str(self))

    def __reduce__(self) -> tuple[Any, ...]:  # picklable across worker processes despite the 4-argument init
        return type(self), (self.file, self.key, self.line, self.message)

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.key}: {self.message}"


def format_duration(value: timedelta) -> str:
    """The inverse of parse_duration: timedelta(hours=36) -> '1d12h'."""
    seconds = int(value.total_seconds())
    parts = [(seconds // 86400, "d"), (seconds // 3600 % 24, "h"), (seconds // 60 % 60, "m"), (seconds % 60, "s")]
    return "".join(f"{n}{unit}" for n, unit in parts if n) or "0s"


def parse_duration(text: str) -> timedelta:
    """'90s', '5m', '2h', '14d', '1d12h' (units in d, h, m, s order) -> timedelta."""
    match = _DURATION.fullmatch(text)
    if not text or not match:
        raise ValueError(f"bad duration {text!r}; expected e.g. '90s', '5m', '2h', '14d', '1d12h'")
    d, h, m, s = (int(g or 0) for g in match.groups())
    try:
        return timedelta(days=d, hours=h, minutes=m, seconds=s)
    except OverflowError:
        raise ValueError(f"duration {text!r} too long; at most 999999999 days") from None


@dataclass
class Context:
    source: str
    locator: Locator

    def fail(self, path: tuple[str, ...], message: str) -> NoReturn:
        key = ".".join(path).replace(".[", "[")  # step[2].at, not step.[2].at
        raise ScenarioError(self.source, key, self.locator.line(path), message)


class Table:
    """One TOML table being validated: unknown keys refused up front (so a typo is not reported as a missing
    key), then typed reads with defaults and range checks."""

    def __init__(self, ctx: Context, path: tuple[str, ...], data: Any, allowed: Iterable[str] | None,
                 what: str = "key") -> None:  # fmt: skip
        self.ctx, self.path, self.data = ctx, path, data
        if not isinstance(data, dict):
            ctx.fail(path, f"expected a table, got {kind_of(data)}")
        if allowed is not None:
            expected = sorted(allowed)
            for key in data:
                if key not in expected:
                    self.fail(key, f"unknown {what}; expected one of {', '.join(expected)}")

    def fail(self, key: str, message: str) -> NoReturn:
        self.ctx.fail((*self.path, key), message)

    def table(self, key: str, allowed: Iterable[str] | None, what: str = "key") -> Table:
        """A sub-table; `allowed=None` for free-form ones (their keys are names, checked by the caller)."""
        return Table(self.ctx, (*self.path, key), self.data.get(key, {}), allowed, what)

    def get(self, key: str, default: Any, *types: type) -> Any:
        value = self.data.get(key, default)
        # bool is an int subclass, so it passes only where asked for; an int is fine where a float is wanted.
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            self.fail(key, f"expected {' or '.join(_TYPES.get(t, t.__name__) for t in types)}, got {kind_of(value)}")
        if (problem := bad_number(value)) is not None:
            self.fail(key, problem)
        return float(value) if float in types and type(value) is int else value

    def number(self, key: str, default: float, kind: type, lo: float | None = None, hi: float | None = None,
               above: float | None = None) -> Any:  # fmt: skip
        value = self.get(key, default, *((int,) if kind is int else (int, float)))
        if (lo is not None and value < lo) or (hi is not None and value > hi) or (above is not None and value <= above):
            bounds = [f"{op} {b}" for op, b in ((">", above), (">=", lo), ("<=", hi)) if b is not None]
            self.fail(key, f"{value} out of range; must be {' and '.join(bounds)}")
        return value

    def duration(self, key: str, default: str, lo: timedelta = timedelta(0), hi: timedelta | None = None,
                 lo_name: str = "") -> timedelta:  # fmt: skip
        text = self.get(key, default, str)
        try:
            value = parse_duration(text)
        except ValueError as e:
            self.fail(key, str(e))
        if value <= timedelta(0) or value < lo or (hi is not None and value > hi):
            bounds = [f">= {lo_name}{format_duration(lo)}" if lo else "> 0s"]
            bounds += [f"<= {format_duration(hi)}"] if hi else []
            self.fail(key, f"{text!r} out of range; must be {' and '.join(bounds)}")
        return value

    def instant(self, key: str, default: datetime, lo: datetime = INSTANTS[0], hi: datetime = INSTANTS[1]) -> datetime:
        """An offset datetime, in UTC, within [lo, hi)."""
        value = self.get(key, default, datetime)
        if value.tzinfo is None:
            self.fail(key, "needs a UTC offset, e.g. 2026-03-02T00:00:00Z")
        if not lo <= value < hi:
            self.fail(key, f"{value.isoformat()} out of range; must be from {lo:%Y-%m-%d} and before {hi:%Y-%m-%d}")
        return value.astimezone(UTC)

    def choice(self, key: str, default: str, allowed: tuple[str, ...]) -> str:
        value = self.get(key, default, str)
        if value not in allowed:
            self.fail(key, f"{value!r} is not one of {', '.join(allowed)}")
        return value

    def strings(self, key: str, default: tuple[str, ...], zones: bool = False) -> tuple[str, ...]:
        values = self.get(key, list(default), list)
        for v in values:
            if not isinstance(v, str) or not v:
                self.fail(key, f"expected non-empty strings, got {v!r}")
            if zones and not tz.is_zone(v):
                self.fail(key, f"unknown IANA zone {v!r}")
        if len(set(values)) < len(values):
            self.fail(key, "duplicate entries")
        return tuple(values)

    def span(self, key: str, default: tuple[timedelta, timedelta]) -> tuple[timedelta, timedelta]:
        """[min, max] of two durations, e.g. ["30s", "20m"]."""
        value = self.get(key, [format_duration(d) for d in default], list)
        if len(value) != 2 or not all(isinstance(v, str) for v in value):
            self.fail(key, f"expected [min, max] of two durations, got {value!r}")
        try:
            lo, hi = parse_duration(value[0]), parse_duration(value[1])
        except ValueError as e:
            self.fail(key, str(e))
        if not timedelta(0) < lo <= hi:
            self.fail(key, f"{value!r} out of range; need 0 < min <= max")
        return lo, hi

    def pair(self, key: str, default: tuple[int, int], hi: int) -> tuple[int, int]:
        value = self.get(key, list(default), list)
        if len(value) != 2 or not all(type(v) is int for v in value):
            self.fail(key, f"expected [min, max] of two integers, got {value!r}")
        if not 1 <= value[0] <= value[1] <= hi:
            self.fail(key, f"{value!r} out of range; need 1 <= min <= max <= {hi}")
        return value[0], value[1]


def bad_number(value: Any) -> str | None:
    """What is wrong with the first number in `value` (itself, or inside its arrays and inline tables) that no
    field means: a non-finite float (TOML allows nan and ±inf) or an integer past 64 bits. None if there is none."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"expected a finite number, got {value}"
    if type(value) is int and not INT_RANGE[0] <= value <= INT_RANGE[1]:
        return f"{value} out of range; must fit in 64 bits"
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return next((p for p in map(bad_number, items) if p is not None), None)


def kind_of(value: Any) -> str:
    """A TOML value's kind, as an error names it."""
    return _TYPES.get(type(value), type(value).__name__)
