"""The read side's parameters (pipeline.md §6), computed as the application computes them: the viewing zone, the
report window and its cutoff. The reports themselves are queries in the read side's file (rollup/readside.py).

Zone names are judged as the application judges them (Go's time.LoadLocation: "", "UTC" and "Local" are
always accepted, otherwise a name from the IANA database), then handed to the query unchanged: a name the
application accepts and PostgreSQL rejects fails upstream's reports (B11).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_DAYS = {"workspace_daily": 30, "workspace_by_agent": 30, "runtime_daily": 90}
TOKENS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")


def app_loadable(name: str | None) -> bool:
    """Whether the application's zone loader accepts `name`."""
    if name is None:
        return False
    if name in ("", "UTC", "Local"):
        return True
    try:
        ZoneInfo(name)
        return True
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a directory such as "America"
        return False


def resolve_zone(tz_param: str | None, user_zone: str | None) -> str:
    """The `?tz=` parameter if loadable, else the user's stored zone if loadable, else UTC."""
    for candidate in (tz_param, user_zone):
        if candidate and app_loadable(candidate):
            return candidate
    return "UTC"


def python_zone(name: str) -> ZoneInfo:
    """The zone the application computes its cutoff in ("Local" is the server's zone: UTC here)."""
    return ZoneInfo("UTC" if name in ("", "Local") else name)


def window_days(report: str, days: int | str | None) -> int:
    """`days` when it is a whole number in 1..365, else the report's default."""
    try:
        n = int(days)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return DEFAULT_DAYS[report]
    return n if 1 <= n <= 365 else DEFAULT_DAYS[report]


def cutoff(report: str, zone: str, days: int, now: datetime) -> datetime:
    """Local midnight of today in `zone`, minus `days` days (days − 1 for the by-agent report)."""
    tz = python_zone(zone)
    today: date = now.astimezone(tz).date()
    back = days - 1 if report == "workspace_by_agent" else days
    return datetime.combine(today - timedelta(days=back), time(0), tzinfo=tz)


@dataclass(frozen=True)
class ReportQuery:
    report: str
    zone: str
    days: int
    cutoff: datetime
    now: datetime


def plan_report(report: str, now: datetime, tz_param: str | None = None, user_zone: str | None = None,
                days: int | str | None = None) -> ReportQuery:
    if report not in DEFAULT_DAYS:
        raise ValueError(f"unknown report {report!r}; choose one of {', '.join(DEFAULT_DAYS)}")
    zone = resolve_zone(tz_param, user_zone)
    n = window_days(report, days)
    return ReportQuery(report, zone, n, cutoff(report, zone, n, now), now)
