"""Local days as the checker reckons them, from pipeline.md §6 and the zone database alone — never with the read
side's code, so that a bug in the read side's calendar cannot hide in the checker too.

- A viewing zone means what the application's loader makes of the name: "", "UTC" and "Local" (the server's
  zone, UTC here) are UTC, an IANA name is itself, anything else falls back to UTC.
- A report's window starts at local midnight of the viewer's today, `days` days back (one fewer for the by-agent
  report, whose window includes today).
- A zone is whole-hour over a range when every UTC offset it uses there is a whole number of hours: then UTC hour
  buckets cut its days exactly. Offsets are read from every hour of the range with polars (an offset lasts
  hours at least), not sampled the way the read side samples them.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

HOUR_US = 3_600_000_000
BY_AGENT = "workspace_by_agent"


def app_zone(name: str) -> str:
    """The IANA zone the application computes in for a viewing-zone name."""
    if name in ("", "UTC", "Local"):
        return "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return "UTC"
    return name


def cutoff_us(report: str, zone: str, days: int, now_us: int) -> int:
    """The first instant (µs) a report over `days` days, viewed in `zone` at `now_us`, includes."""
    tz = ZoneInfo(app_zone(zone))
    today = datetime.fromtimestamp(now_us / 1_000_000, UTC).astimezone(tz).date()
    first = today - timedelta(days=days - 1 if report == BY_AGENT else days)
    midnight = datetime.combine(first, time(0), tzinfo=tz)
    return int(midnight.timestamp()) * 1_000_000


def offsets(zone: str, start: datetime, end: datetime) -> list[timedelta]:
    """The distinct UTC offsets `zone` uses in [start, end), read at every hour and at the range's last second."""
    for moment in (start, end):
        if moment.tzinfo is None:
            raise ValueError(f"naive datetime {moment.isoformat()}: give a timezone-aware instant")
    begin, stop = start.astimezone(UTC), end.astimezone(UTC)
    if stop <= begin:
        return []
    hours = pl.datetime_range(begin, stop, "1h", closed="left", time_unit="us", time_zone="UTC", eager=True)
    instants = pl.concat([hours, pl.Series([stop - timedelta(seconds=1)], dtype=hours.dtype)])
    local = instants.dt.convert_time_zone(zone)
    used = (local.dt.base_utc_offset() + local.dt.dst_offset()).unique().sort()
    return used.to_list()


def whole_hour(zone: str, start: datetime, end: datetime) -> bool:
    """Whether UTC hour buckets cut the zone's local days exactly throughout [start, end)."""
    return all(o % timedelta(hours=1) == timedelta(0) for o in offsets(app_zone(zone), start, end))
