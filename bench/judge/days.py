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

from bench.workload.zones import offsets
from rollup.units import US

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
    today = datetime.fromtimestamp(now_us / US, UTC).astimezone(tz).date()
    first = today - timedelta(days=days - 1 if report == BY_AGENT else days)
    midnight = datetime.combine(first, time(0), tzinfo=tz)
    return int(midnight.timestamp()) * US


def whole_hour(zone: str, start: datetime, end: datetime) -> bool:
    """Whether UTC hour buckets cut the zone's local days exactly throughout [start, end)."""
    return all(o % timedelta(hours=1) == timedelta(0) for o in offsets(app_zone(zone), start, end))
