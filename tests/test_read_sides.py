"""Read sides made of an application's query files, on real PostgreSQL: a mutant of the daily cutoff in a query
file fails report grain east of UTC; an application's own sqlc file, mapped in its project, reads as the built-in
faithful side does; and the hardened file's choice of table agrees with the checker's calendar."""

from __future__ import annotations

import json
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from bench.orchestrate import project
from bench.orchestrate.execute import SCENARIOS, rejudge, run_scenario
from bench.drive import snapshots
from bench.judge import days
from bench.judge.verdict import evaluate
from bench.workload import zones
from bench.workload.scenario import loads
from rollup.database import Database
from rollup.readside import ReadSideError, load, run_report
from rollup.reports import plan_report
from tests.conftest import START
from tests.helpers import request

HERE = Path(__file__).parent / "read_sides"
MUTANT_CUT = "date_trunc('day', @cutoff::timestamptz AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"

# Usage on 1 March in Tokyo, then a check early on 3 March there: a one-day daily window starts at 2 March 00:00
# JST (1 March 15:00Z), so the first usage is outside it — unless the window starts at 1 March 00:00Z.
TOKYO = """
[scenario]
name = "tokyo-window"
start = 2026-03-01T01:00:00Z  # 10:00 on 1 March in Tokyo
duration = "40h"
[zones]
view = ["Asia/Tokyo"]
report_days = 1

[[step]]
do = "task"
at = "0m"
name = "t1"
agent = "A.a1"
issue = "A.i1"
[[step]]
do = "usage"
at = "0m"
task = "t1"
input = 100
[[step]]
do = "tick"
at = "1h"
[[step]]
do = "tick"
at = "25h"  # (a tick catches up a day at most)
[[step]]
do = "task"
at = "37h"
name = "t2"
agent = "A.a1"
issue = "A.i1"
[[step]]
do = "usage"
at = "37h"  # 23:00 on 2 March in Tokyo
task = "t2"
input = 7
[[step]]
do = "tick"
at = "39h"
[[step]]
do = "check"
at = "39h1m"
"""


def failed(v: dict) -> set[str]:
    return {c["name"] for c in v["checks"] if not c["ok"]}


@pytest.mark.one_server
def test_a_daily_window_cut_at_utc_midnight_drifts_east_of_utc_and_its_fix_passes(server, tmp_path):
    mutant, fixed = HERE / "utc_midnight.sql", HERE / "local_midnight.sql"
    body = lambda p: p.read_text().split("-- name:", 1)[1]  # noqa: E731  (below each file's own header)
    assert body(mutant).replace(MUTANT_CUT, "@cutoff::timestamptz") == body(fixed)  # the one change
    loads(TOKYO)
    verdicts = {p.stem: run_scenario(server, request(TOKYO, "reference", tmp_path / p.stem,
                                                          read_side=str(p))) for p in (mutant, fixed)}
    assert failed(verdicts["utc_midnight"]) == {"report-grain pipeline drift"}, verdicts["utc_midnight"]["checks"]
    tokyo = verdicts["utc_midnight"]["zones"][0]
    assert tokyo["pipeline_drift_tokens"] == 2 * 100  # t1's tokens, in both daily reports
    assert verdicts["local_midnight"]["ok"], verdicts["local_midnight"]["checks"]
    assert verdicts["utc_midnight"]["read_side"] == str(mutant)


# A small generated workload, viewed in whole-hour zones east and west of UTC and a half-hour one.
SMALL = """
[scenario]
name = "sqlc"
seed = 11
start = 2026-03-02T16:00:00Z  # across 18:30Z, midnight in Kolkata
duration = "6h"
[tenants]
workspaces = 2
issues = 4
[rates]
tasks_per_hour = 8.0
[operations]
per_hour = 2.0
[pipeline]
check_every = "3h"
[zones]
view = ["UTC", "Asia/Tokyo", "America/Los_Angeles", "Asia/Kolkata"]
report_days = 1
"""
COLUMNS = """day = "date"
input = "input_tokens"
output = "output_tokens"
cache_read = "cache_read_tokens"
cache_write = "cache_write_tokens"
"""
PROJECT = f"""
[tool.rollup-bench]
target = "reference"

[tool.rollup-bench.read_side]
queries = "queries/usage.sql"

[tool.rollup-bench.read_side.workspace_daily]
query = "ListDashboardUsageDaily"
params = ["workspace_id", "cutoff", "tz"]
[tool.rollup-bench.read_side.workspace_daily.columns]
{COLUMNS}tasks = "task_count"

[tool.rollup-bench.read_side.workspace_by_agent]
query = "ListDashboardUsageByAgent"
params = ["workspace_id", "cutoff"]
[tool.rollup-bench.read_side.workspace_by_agent.columns]
{COLUMNS.replace('day = "date"', 'agent = "agent_id"')}
[tool.rollup-bench.read_side.runtime_daily]
query = "GetRuntimeUsage"
params = ["runtime_id", "tz", "cutoff"]
[tool.rollup-bench.read_side.runtime_daily.columns]
{COLUMNS}"""
SAME = ("ok", "checks", "drift", "tables", "signature", "zones", "history_sha256", "bad_keys")


@pytest.mark.one_server
def test_an_applications_sqlc_file_mapped_in_its_project_reads_as_faithful_does(server, tmp_path):
    (tmp_path / "queries").mkdir()
    shutil.copy(HERE / "usage.sql", tmp_path / "queries" / "usage.sql")
    (tmp_path / "pyproject.toml").write_text(PROJECT)
    side = project.load(tmp_path / "pyproject.toml").read_side
    assert side == str(tmp_path / "pyproject.toml")
    loads(SMALL)
    runs = {name: run_scenario(server, request(SMALL, "reference", tmp_path / name, read_side=s))
            for name, s in (("builtin", "faithful"), ("theirs", side))}
    assert {k: runs["theirs"][k] for k in SAME} == {k: runs["builtin"][k] for k in SAME}
    assert runs["theirs"]["read_side"] == side and runs["builtin"]["read_side"] == "faithful"
    kolkata = next(z for z in runs["theirs"]["zones"] if z["name"] == "Asia/Kolkata")
    assert kolkata["representation_error"] > 0  # reports with rows, judged: UTC hours misplace Kolkata's
    reports = {name: pl.concat([pl.read_parquet(f) for f in sorted((tmp_path / name).rglob("*.reports.parquet"))])
               for name in runs}
    assert reports["theirs"].height > 0 and reports["theirs"].equals(reports["builtin"])  # row for row


@pytest.fixture
def hardened_db(server, hardened_template):
    with Database(server, START, template=hardened_template) as database:
        yield database


def test_the_hardened_file_reads_quarter_hours_where_the_checkers_calendar_says_hours_cannot(hardened_db):
    """Each table holds rows of its own token counts (the hourly 1, the quarter-hourly 1000), so the report says
    which table it read: the quarter hours exactly when bench/judge/days.py finds an offset that is not a whole
    hour over the report's window. "Local" and "" are read as UTC (B11), which is whole-hour."""
    ws, key = uuid.uuid4(), (uuid.uuid4(), uuid.uuid4())
    nows = [START, datetime(2026, 4, 5, 16, 30, tzinfo=UTC), datetime(2026, 10, 4, 15, 59, tzinfo=UTC)]
    side = load("hardened")
    with hardened_db.connect() as conn:
        for now in nows:  # a row an hour before each instant: inside every window read at it
            for table, bucket, tokens in (("task_usage_hourly", "bucket_hour", 1),
                                          ("task_usage_quarter_hourly", "bucket_start", 1000)):
                conn.execute(f"INSERT INTO {table} ({bucket}, workspace_id, runtime_id, agent_id, provider, model,"
                             " input_tokens, task_count) VALUES (%s, %s, %s, %s, 'anthropic', %s, %s, 1)",
                             (now - timedelta(hours=1), ws, *key, str(now), tokens))
        names = sorted(zones._known())[::9] + ["Australia/Lord_Howe", "Asia/Kathmandu", "Local", "", "UTC"]
        disagree = []
        for zone in names:
            for now in nows:
                q = plan_report("workspace_by_agent", now, tz_param=zone, days=2)
                tokens = [r["input_tokens"] for r in run_report(conn, q, ws, side=side)]
                quarter = not days.whole_hour(zone, q.cutoff, q.now)
                if not tokens or any(t >= 1000 for t in tokens) is not quarter:
                    disagree.append((zone, now, tokens, quarter))
    assert len(names) > 60 and disagree == []


@pytest.mark.one_server
def test_check_judges_by_the_recorded_claim_and_reads_older_histories_as_before(server, tmp_path):
    """`rollup-bench check` takes the read side's exactness from what the history's checks recorded; one recorded
    before read sides were files says only its name, and `hardened` meant exact."""
    v = run_scenario(server, request(SCENARIOS / "repro" / "B10.toml", "hardened", tmp_path))
    history = next(tmp_path.glob("*.history.jsonl"))
    index = snapshots.folder(history) / snapshots.INDEX
    meta = json.loads(index.read_text())
    assert (meta["read_side"], meta["read_side_exact"]) == ("hardened", True)
    assert meta["read_side_sha256"] == load("hardened").sha256
    judged = lambda: evaluate(rejudge(history))  # noqa: E731
    assert judged()["checks"] == v["checks"] and v["ok"]
    index.write_text(json.dumps({k: x for k, x in meta.items() if k not in ("read_side_exact", "read_side_sha256")}))
    assert judged()["checks"] == v["checks"]  # as recorded before
    index.write_text(json.dumps(meta | {"read_side_exact": False}))  # the claim withdrawn: hour buckets' error counts
    assert failed(judged()) == {"B10 converges"}


def test_a_query_without_a_column_the_checker_reads_is_one_line(conn, tmp_path):
    path = tmp_path / "usage.sql"
    path.write_text((HERE / "local_midnight.sql").read_text().replace("AS date,", "AS day,", 1))
    q = plan_report("workspace_daily", START)
    with pytest.raises(ReadSideError, match=r"usage.sql:5: WorkspaceDailyUsage returns no date \(it returns day, "):
        run_report(conn, q, uuid.uuid4(), side=load(str(path)))
    assert run_report(conn, plan_report("runtime_daily", START), uuid.uuid4(), side=load(str(path))) == []
