"""The read side (pipeline.md §6): viewing-zone resolution, report windows and the three rollup reports.

Zone names are judged as the application judges them (Go's time.LoadLocation: "", "UTC" and "Local" are
always accepted, otherwise a name from the IANA database), then handed to PostgreSQL's AT TIME ZONE
unchanged. A name the application accepts and PostgreSQL rejects fails the report (B11).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import psycopg

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


_SUMS = ", ".join(f"sum({c})::bigint AS {c}" for c in TOKENS) + ", sum(task_count)::bigint AS task_count"


@dataclass(frozen=True)
class ReportQuery:
    report: str
    zone: str
    days: int
    cutoff: datetime


def plan_report(report: str, now: datetime, tz_param: str | None = None, user_zone: str | None = None,
                days: int | str | None = None) -> ReportQuery:
    if report not in DEFAULT_DAYS:
        raise ValueError(f"unknown report {report!r}; choose one of {', '.join(DEFAULT_DAYS)}")
    zone = resolve_zone(tz_param, user_zone)
    n = window_days(report, days)
    return ReportQuery(report, zone, n, cutoff(report, zone, n, now))


def run_report(conn: psycopg.Connection, q: ReportQuery, scope_id, project_id=None) -> list[dict]:
    """Rows of one report: `scope_id` is the workspace (workspace reports) or the runtime (runtime report)."""
    project = " AND project_id = %(project)s" if project_id is not None and q.report != "runtime_daily" else ""
    if q.report == "workspace_by_agent":
        select, group = "agent_id, lower(provider) AS provider, model", "agent_id, lower(provider), model"
    else:
        select = "DATE(bucket_hour AT TIME ZONE %(tz)s) AS date, lower(provider) AS provider, model"
        group = "DATE(bucket_hour AT TIME ZONE %(tz)s), lower(provider), model"
    scope = "runtime_id" if q.report == "runtime_daily" else "workspace_id"
    query = (
        f"SELECT {select}, {_SUMS} FROM task_usage_hourly"
        f" WHERE {scope} = %(scope)s AND bucket_hour >= %(cutoff)s{project}"
        f" GROUP BY {group} ORDER BY {group}"
    )
    params = {"tz": q.zone, "scope": scope_id, "cutoff": q.cutoff, "project": project_id}
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute(query, params).fetchall()
