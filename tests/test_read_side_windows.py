"""Report windows that cut into the data (issue 36): every check reads each report over its scenario's window and
over short ones (bench/drive/snapshots.py WINDOWS: 1 and 7 days), so the cutoff falls inside the data. Steady,
shortened to two days, then catches read-side regressions written as an application would get them wrong — a
by-agent query reading a day before its cutoff, a cutoff taken at UTC midnight instead of the viewer's, the
application computing its by-agent cutoff a day early — while faithful and hardened still pass it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bench.drive import snapshots
from bench.judge.verdict import evaluate
from bench.orchestrate.execute import SCENARIOS, rejudge, run_scenario
from rollup import reports
from tests.helpers import request

pytestmark = pytest.mark.slow  # short steady runs: a minute or more in all (pytest -m slow)

HERE = Path(__file__).parent / "read_sides"
STEADY = (SCENARIOS / "steady.toml").read_text().replace('duration = "14d"', 'duration = "2d"')


def steady(server, tmp_path: Path, name: str, target: str = "reference", side: str | None = None) -> dict:
    return run_scenario(server, request(STEADY, target, tmp_path / name, side))


def failed(v: dict) -> dict[str, str]:
    return {c["name"]: c["observed"] for c in v["checks"] if not c["ok"]}


@pytest.mark.one_server
@pytest.mark.parametrize("target", ["reference", "hardened"])
def test_faithful_and_hardened_pass_short_steady_reading_windows_inside_the_data(server, tmp_path, target):
    v = steady(server, tmp_path, target, target)
    assert v["ok"], failed(v)
    assert v["read_side"] == ("hardened" if target == "hardened" else "faithful")
    assert {w["days"] for z in v["zones"] for w in z["windows"]} == set(snapshots.WINDOWS)
    history = Path(v["history"])
    if target == "reference":  # a history recorded before windows were read is judged as it was
        index = snapshots.folder(history) / snapshots.INDEX
        meta = json.loads(index.read_text())
        for check in meta["checks"]:
            del check["windows"]
            (snapshots.folder(history) / f"{check['op']}.windows.parquet").unlink()
        index.write_text(json.dumps(meta))
        again = evaluate(rejudge(history))
        assert again["checks"] == v["checks"] and all("windows" not in z for z in again["zones"])


@pytest.mark.one_server
@pytest.mark.parametrize("side, report", [
    ("agent_day_early.sql", "workspace_by_agent"),  # reads a day before its cutoff
    ("utc_cutoff.sql", None),  # each query starts its window at UTC midnight
    ("utc_midnight.sql", None),  # the daily queries truncate the cutoff to its UTC date
])
def test_read_side_regressions_fail_short_steady(server, tmp_path, side, report):
    v = steady(server, tmp_path, Path(side).stem, side=str(HERE / side))
    observed = failed(v)
    assert set(observed) == {"report-grain pipeline drift"}, observed
    assert "-day window" in observed["report-grain pipeline drift"]
    drifting = {e["report"] for z in v["zones"] for w in z["windows"] for e in w["examples"] if e["kind"] == "drift"}
    assert drifting == {report} if report else drifting
    assert all(z["pipeline_drift"] == 0 for z in v["zones"])  # steady's own 30-day window shows nothing


@pytest.mark.one_server
def test_the_application_computing_its_by_agent_cutoff_a_day_early_fails_short_steady(server, tmp_path,
                                                                                    monkeypatch):
    """A test double of the application's parameter step (rollup/reports.py computes the window's cutoff as the
    application does): the by-agent report's cutoff one day early, every other left alone. The checker's calendar
    (bench/judge/days.py) is its own, so the double does not move the truth."""
    right = reports.cutoff

    def day_early(report: str, zone: str, days: int, now: datetime) -> datetime:
        cut = right(report, zone, days, now)
        return cut - timedelta(days=1) if report == "workspace_by_agent" else cut

    monkeypatch.setattr(reports, "cutoff", day_early)
    v = steady(server, tmp_path, "day-early")
    observed = failed(v)
    assert set(observed) == {"report-grain pipeline drift"}, observed
    assert "the first: workspace_by_agent (1-day window" in observed["report-grain pipeline drift"]
