"""The read side (pipeline.md §6): viewing-zone resolution, report windows and the three rollup reports.

Zone names are judged as the application judges them (Go's time.LoadLocation: "", "UTC" and "Local" are
always accepted, otherwise a name from the IANA database), then handed to PostgreSQL's AT TIME ZONE
unchanged. A name the application accepts and PostgreSQL rejects fails the report (B11).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import psycopg

DEFAULT_DAYS = {"workspace_daily": 30, "workspace_by_agent": 30, "runtime_daily": 90}
HOUR = timedelta(hours=1)
# No offset in tzdata (checked against every zone's transition table) lasts under 6 hours: sampling misses none.
_STEP = timedelta(hours=6)
TOKENS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: give a timezone-aware instant")
    return moment.astimezone(UTC)


def offsets(zone: str, start: datetime, end: datetime) -> list[timedelta]:
    """The distinct UTC offsets `zone` uses in [start, end), sorted."""
    tz = ZoneInfo(zone)
    begin, stop = _utc(start), _utc(end)
    # Samples every _STEP, plus the range's last second, which the steps may have stepped over.
    moments = [begin + i * _STEP for i in range(-(-(stop - begin) // _STEP))]
    if stop > begin:
        moments.append(stop - timedelta(seconds=1))
    return sorted({m.astimezone(tz).utcoffset() or timedelta(0) for m in moments})


def whole_hour(zone: str, start: datetime, end: datetime) -> bool:
    """Whether UTC hour buckets can express the zone's local days exactly throughout [start, end)."""
    return all(o % HOUR == timedelta(0) for o in offsets(zone, start, end))


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


_SUMS = ", ".join(f"sum({c})::bigint AS {c}" for c in TOKENS) + ", sum(task_count)::bigint AS task_count"


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


def _pg_zone(conn: psycopg.Connection, zone: str) -> str:
    """The zone as PostgreSQL should be given it: a name it cannot load (e.g. "Local", which the application
    accepts and means the server's zone) becomes UTC instead of failing the report (B11)."""
    try:
        with conn.transaction():
            conn.execute("SELECT now() AT TIME ZONE %s", (zone,))
        return zone
    except psycopg.errors.InvalidParameterValue:
        return "UTC"


def run_report(conn: psycopg.Connection, q: ReportQuery, scope_id, project_id=None,
               read_side: str = "faithful") -> list[dict]:
    """Rows of one report: `scope_id` is the workspace (workspace reports) or the runtime (runtime report).

    `faithful` is the read side as upstream ships it. `hardened` hands PostgreSQL only zones it can load, and
    reads 15-minute buckets for zones whose offset is not a whole hour, so their days are exact (B10)."""
    zone, table, bucket = q.zone, "task_usage_hourly", "bucket_hour"
    if read_side == "hardened":
        zone = _pg_zone(conn, zone)
        if not whole_hour(python_zone(zone).key, q.cutoff, q.now):
            table, bucket = "task_usage_quarter_hourly", "bucket_start"
    project = " AND project_id = %(project)s" if project_id is not None and q.report != "runtime_daily" else ""
    if q.report == "workspace_by_agent":
        select, group = "agent_id, lower(provider) AS provider, model", "agent_id, lower(provider), model"
    else:
        select = f"DATE({bucket} AT TIME ZONE %(tz)s) AS date, lower(provider) AS provider, model"
        group = f"DATE({bucket} AT TIME ZONE %(tz)s), lower(provider), model"
    scope = "runtime_id" if q.report == "runtime_daily" else "workspace_id"
    query = (
        f"SELECT {select}, {_SUMS} FROM {table}"
        f" WHERE {scope} = %(scope)s AND {bucket} >= %(cutoff)s{project}"
        f" GROUP BY {group} ORDER BY {group}"
    )
    params = {"tz": zone, "scope": scope_id, "cutoff": q.cutoff, "project": project_id}
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute(query, params).fetchall()
