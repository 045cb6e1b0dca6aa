"""The read side (pipeline.md §6): zone resolution, windows, cutoffs and the three rollup reports on real data.

B10 (zones whose offset is not a whole hour) and B11 (a zone the application accepts and PostgreSQL rejects)
reproduce here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from rollup.readside import run_report
from rollup.reports import ReportQuery, app_loadable, cutoff, plan_report, resolve_zone, window_days
from tests.conftest import START
from tests.helpers import World


def Z(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def row(d: date | None, provider: str, model: str, input: int, output: int = 0, cache_read: int = 0,
        cache_write: int = 0, tasks: int = 1, agent=None) -> dict:
    r = {"date": d} if agent is None else {"agent_id": agent}
    return {**r, "provider": provider, "model": model, "input_tokens": input, "output_tokens": output,
            "cache_read_tokens": cache_read, "cache_write_tokens": cache_write, "task_count": tasks}


# ---------------------------------------------------------------------------------------- zone resolution


@pytest.mark.parametrize("name, ok", [
    ("UTC", True), ("Local", True), ("", True), ("Asia/Kolkata", True), ("America/Los_Angeles", True),
    (None, False), ("Mars/Olympus", False), ("../etc/passwd", False), ("America/", False),
    ("America", False),  # a directory of the zone database, not a zone
])
def test_app_loadable(name, ok):
    assert app_loadable(name) is ok


@pytest.mark.parametrize("tz_param, user_zone, zone", [
    ("Asia/Tokyo", "America/Los_Angeles", "Asia/Tokyo"),  # the parameter first
    (None, "America/Los_Angeles", "America/Los_Angeles"),  # then the user's stored zone
    ("", "America/Los_Angeles", "America/Los_Angeles"),  # an empty parameter is no parameter
    (None, None, "UTC"),  # then UTC
    ("Mars/Olympus", "America/Los_Angeles", "America/Los_Angeles"),  # invalid values fall through silently
    ("Mars/Olympus", "Nowhere/Special", "UTC"),
    ("America", "Europe", "UTC"),
    ("Local", "Asia/Tokyo", "Local"),  # accepted as the application accepts it (B11 follows)
    (None, "Local", "Local"),
])
def test_resolve_zone(tz_param, user_zone, zone):
    assert resolve_zone(tz_param, user_zone) == zone


# ------------------------------------------------------------------------------------------- windows


@pytest.mark.parametrize("report, days, n", [
    ("workspace_daily", None, 30), ("workspace_by_agent", None, 30), ("runtime_daily", None, 90),
    ("workspace_daily", 7, 7), ("workspace_daily", "7", 7), ("workspace_daily", 1, 1), ("workspace_daily", 365, 365),
    ("workspace_daily", 0, 30), ("workspace_daily", 366, 30), ("workspace_daily", -3, 30),
    ("workspace_daily", "abc", 30), ("workspace_daily", "", 30), ("runtime_daily", "0", 90),
    ("runtime_daily", 400, 90), ("runtime_daily", "365", 365), ("workspace_by_agent", "1000", 30),
])
def test_window_days(report, days, n):
    assert window_days(report, days) == n


def test_cutoff_is_local_midnight_minus_days_in_utc():
    assert cutoff("workspace_daily", "UTC", 30, START) == Z(1, 30)
    assert cutoff("runtime_daily", "UTC", 90, START) == datetime(2025, 12, 1, tzinfo=UTC)
    assert cutoff("workspace_by_agent", "UTC", 30, START) == Z(1, 31)  # days − 1: an exact 30-day window
    assert cutoff("workspace_by_agent", "UTC", 1, START) == Z(3, 1)  # today only
    assert cutoff("workspace_daily", "Local", 1, START) == Z(2, 28)  # "Local" is the server's zone: UTC


def test_cutoff_in_a_dst_zone_takes_the_offset_of_the_cutoff_date():
    ny = "America/New_York"  # DST from 2026-03-08 02:00 to 2026-11-01 02:00
    now = Z(3, 9, 12)  # 08:00 EDT
    c = cutoff("workspace_daily", ny, 7, now)
    assert c == Z(3, 2, 5) and c.utcoffset() == timedelta(hours=-5)  # midnight EST, though now is in EDT
    assert cutoff("workspace_by_agent", ny, 7, now) == Z(3, 3, 5)
    assert cutoff("workspace_daily", ny, 1, now) == Z(3, 8, 5)  # the 23-hour day
    assert cutoff("workspace_by_agent", ny, 1, now) == Z(3, 9, 4)  # today's midnight is EDT
    assert cutoff("workspace_daily", ny, 1, Z(11, 2, 12)) == Z(11, 1, 4)  # the 25-hour day starts in EDT


def test_cutoff_in_asia_kolkata():
    assert cutoff("workspace_daily", "Asia/Kolkata", 1, START) == datetime(2026, 2, 27, 18, 30, tzinfo=UTC)
    late = Z(3, 1, 20)  # 01:30 on 2 March in Kolkata: local today is already tomorrow in UTC terms
    assert cutoff("workspace_daily", "Asia/Kolkata", 1, late) == datetime(2026, 2, 28, 18, 30, tzinfo=UTC)
    assert cutoff("workspace_by_agent", "Asia/Kolkata", 1, late) == datetime(2026, 3, 1, 18, 30, tzinfo=UTC)


def test_plan_report_resolves_zone_window_and_cutoff():
    q = plan_report("workspace_daily", START, tz_param="Mars/Olympus", user_zone="America/Los_Angeles", days="x")
    assert q == ReportQuery("workspace_daily", "America/Los_Angeles", 30,
                            datetime(2026, 1, 30, 8, tzinfo=UTC), START)  # 30 Jan 00:00 PST
    with pytest.raises(ValueError, match="unknown report"):
        plan_report("workspace_weekly", START)


# ------------------------------------------------------------------------------------- reports on data


@pytest.fixture
def world(db, pipeline):
    """Usage in one workspace (and noise in another), rolled up from 1 February to 12:00 on 1 March."""
    w = World(db)
    t1, t4 = w.task(), w.task()
    w.usage(t1, Z(3, 1, 5, 10), input=100, output=10, cache_read=1, cache_write=2)
    w.usage(t4, Z(3, 1, 5, 40), input=5)  # same bucket and key as t1: two tasks
    w.usage(w.task(agent=w.a2, issue=None), Z(3, 1, 5, 20), input=10, model="claude-haiku")  # no project
    w.usage(w.task(runtime="r2"), Z(2, 27, 20), input=1000, provider="OpenAI", model="gpt-5")
    other = World(db)
    other.usage(other.task(), Z(3, 1, 5, 30), input=9999)
    assert pipeline.window(Z(2, 1), START, at=START) == 4  # the template's watermark is past 27 February
    return w


def report(conn, name, scope, tz=None, user_zone=None, days=None, project=None, now=START):
    return run_report(conn, plan_report(name, now, tz, user_zone, days), scope, project)


def test_workspace_daily_in_utc(conn, world):
    assert report(conn, "workspace_daily", world.ws) == [
        row(date(2026, 2, 27), "openai", "gpt-5", 1000),
        row(date(2026, 3, 1), "anthropic", "claude-haiku", 10),
        row(date(2026, 3, 1), "anthropic", "claude-sonnet", 105, 10, 1, 2, tasks=2),
    ]


def test_a_05Z_bucket_lands_on_the_previous_day_in_los_angeles(conn, world):
    user_zone = conn.execute('SELECT timezone FROM "user" WHERE id = %s', (world.user,)).fetchone()[0]
    assert user_zone == "America/Los_Angeles"
    la = report(conn, "workspace_daily", world.ws, user_zone=user_zone)
    assert la == [
        row(date(2026, 2, 27), "openai", "gpt-5", 1000),  # 12:00 PST
        row(date(2026, 2, 28), "anthropic", "claude-haiku", 10),  # the 05:00Z bucket is 21:00 PST on the 28th
        row(date(2026, 2, 28), "anthropic", "claude-sonnet", 105, 10, 1, 2, tasks=2),
    ]
    assert report(conn, "workspace_daily", world.ws, tz="UTC", user_zone=user_zone)[1]["date"] == date(2026, 3, 1)


def test_window_cuts_at_the_local_midnight(conn, world):
    dates = lambda **kw: [r["date"] for r in report(conn, "workspace_daily", world.ws, **kw)]  # noqa: E731
    assert dates(days=1) == [date(2026, 3, 1)] * 2  # from 28 Feb 00:00Z: yesterday and today
    assert dates(days=2) == [date(2026, 2, 27)] + [date(2026, 3, 1)] * 2  # from 27 Feb 00:00Z
    assert dates(days=1, now=Z(3, 2, 23, 59)) == [date(2026, 3, 1)] * 2
    assert dates(days=1, now=Z(3, 3)) == []
    # In Los Angeles 1 March 05:00Z is 28 February: with days=1 on 1 March (PST) the window starts 28 Feb 08:00Z.
    assert dates(days=1, tz="America/Los_Angeles") == [date(2026, 2, 28)] * 2


def test_workspace_by_agent_groups_per_agent(conn, world):
    key = lambda r: (str(r["agent_id"]), r["provider"], r["model"])  # noqa: E731
    a1_sonnet = row(None, "anthropic", "claude-sonnet", 105, 10, 1, 2, tasks=2, agent=world.a1)
    a1_gpt = row(None, "openai", "gpt-5", 1000, agent=world.a1)
    a2_haiku = row(None, "anthropic", "claude-haiku", 10, agent=world.a2)
    rows = report(conn, "workspace_by_agent", world.ws)
    assert rows == sorted([a1_sonnet, a1_gpt, a2_haiku], key=key)  # no date: one row per agent and model
    today = sorted([a1_sonnet, a2_haiku], key=key)
    assert report(conn, "workspace_by_agent", world.ws, days=1) == today  # 1 March only
    assert report(conn, "workspace_by_agent", world.ws, days=2) == today  # days − 1: 28 Feb .. 1 March
    assert report(conn, "workspace_by_agent", world.ws, days=3) == rows  # 27 Feb .. 1 March


def test_runtime_daily_filters_by_runtime(conn, world):
    assert report(conn, "runtime_daily", world.r2) == [row(date(2026, 2, 27), "openai", "gpt-5", 1000)]
    r1 = [row(date(2026, 3, 1), "anthropic", "claude-haiku", 10),
          row(date(2026, 3, 1), "anthropic", "claude-sonnet", 105, 10, 1, 2, tasks=2)]
    assert report(conn, "runtime_daily", world.r1) == r1
    assert report(conn, "runtime_daily", world.r1, project=world.p2) == r1  # no project filter on this report
    assert report(conn, "runtime_daily", world.ws) == []  # scoped by runtime id, not workspace


def test_project_filter(conn, world):
    assert report(conn, "workspace_daily", world.ws, project=world.p1) == [
        row(date(2026, 2, 27), "openai", "gpt-5", 1000),
        row(date(2026, 3, 1), "anthropic", "claude-sonnet", 105, 10, 1, 2, tasks=2),
    ]  # the no-project haiku usage is left out
    assert report(conn, "workspace_daily", world.ws, project=world.p2) == []
    assert [(r["agent_id"], r["model"], r["input_tokens"])
            for r in report(conn, "workspace_by_agent", world.ws, project=world.p1)] == [
        (world.a1, "claude-sonnet", 105), (world.a1, "gpt-5", 1000)]


def test_B10_usage_in_the_first_minutes_of_a_kolkata_day_is_reported_on_the_previous_day(db, pipeline, conn):
    w = World(db)
    w.usage(w.task(), Z(2, 28, 18, 40), input=7)  # 00:10 on 1 March in Kolkata
    assert pipeline.window(Z(2, 28), START, at=START) == 1
    created = conn.execute("SELECT created_at FROM task_usage").fetchone()[0]
    kolkata = ZoneInfo("Asia/Kolkata")
    assert created.astimezone(kolkata).date() == date(2026, 3, 1)  # the true local date
    assert conn.execute("SELECT DATE(created_at AT TIME ZONE 'Asia/Kolkata') FROM task_usage").fetchone()[0] \
        == date(2026, 3, 1)
    # The 18:00Z bucket starts at 23:30 IST on 28 February, so the report puts it there.
    assert report(conn, "workspace_daily", w.ws, tz="Asia/Kolkata") == [row(date(2026, 2, 28), "anthropic",
                                                                             "claude-sonnet", 7)]
    # And the local-midnight cutoff (1 March 00:00 IST = 18:30Z) drops the whole straddling bucket: today's
    # usage in Kolkata is missing from today's window.
    assert report(conn, "workspace_by_agent", w.ws, tz="Asia/Kolkata", days=1) == []
    # A whole-hour zone has no such error: 03:40 JST on 1 March, reported on 1 March.
    assert report(conn, "workspace_daily", w.ws, tz="Asia/Tokyo") == [row(date(2026, 3, 1), "anthropic",
                                                                           "claude-sonnet", 7)]
    assert report(conn, "workspace_by_agent", w.ws, tz="Asia/Tokyo", days=1) == [
        row(None, "anthropic", "claude-sonnet", 7, agent=w.a1)]


def test_B11_zone_local_makes_the_sql_fail(conn, world):
    q = plan_report("workspace_daily", START, tz_param="Local", user_zone="Asia/Tokyo")
    assert q.zone == "Local" and q.cutoff == Z(1, 30)  # the application accepts it and computes its cutoff
    with pytest.raises(psycopg.errors.InvalidParameterValue, match='time zone "Local" not recognized'):
        run_report(conn, q, world.ws)
    with pytest.raises(psycopg.errors.InvalidParameterValue, match='time zone "Local" not recognized'):
        report(conn, "runtime_daily", world.r1, tz="Local")
    # The by-agent report never hands the zone to PostgreSQL (the cutoff is computed by the application),
    # so it alone still answers.
    assert {r["agent_id"] for r in report(conn, "workspace_by_agent", world.ws, tz="Local")} == {world.a1, world.a2}
