"""A team's own report queries, as they are (tests/chains/team/queries: two sqlc files, mixed parameters, cost
columns beside the token sums), read on a chain with the team's cost columns (tests/read_sides/cost_ticks, on top
of the reference, until the team's chain is joined): they give the reports the built-in faithful side gives, and
every measure they carry is judged at report grain — a cost shown as 0, or an uncosted column read from the wrong
measure, fails the run naming the report and the measure."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import polars as pl
import pytest

from bench.orchestrate.execute import run_scenario
from rollup.migrations import MIGRATIONS_ROOT
from tests.helpers import request

HERE = Path(__file__).parent
TEAM = HERE / "chains" / "team"
TARGET = f"{MIGRATIONS_ROOT / 'reference'},{HERE / 'read_sides' / 'cost_ticks'}"
# A small generated workload, checked twice, viewed east and west of UTC and in a half-hour zone; a one-day
# window (its cutoff inside the data), and the further 7-day one every check reads.
SMALL = """
[scenario]
name = "costs"
seed = 5
start = 2026-03-02T12:00:00Z
duration = "18h"
[tenants]
workspaces = 2
issues = 4
[rates]
tasks_per_hour = 8.0
[operations]
per_hour = 2.0
[pipeline]
check_every = "9h"
[zones]
view = ["UTC", "Asia/Tokyo", "America/Los_Angeles", "Asia/Kolkata"]
report_days = 1
"""
SAME = ("ok", "checks", "drift", "tables", "signature", "zones", "history_sha256", "bad_keys")


def team(tmp_path: Path, *changes: tuple[str, str, str]) -> str:
    """The team's read side copied, with each (file, old, new) edit made (every occurrence), for a regression."""
    shutil.copytree(TEAM / "queries", tmp_path / "queries")
    shutil.copy(TEAM / "read_side.toml", tmp_path)
    for name, old, new in changes:
        path = tmp_path / "queries" / name
        assert old in path.read_text()
        path.write_text(path.read_text().replace(old, new))
    return str(tmp_path / "read_side.toml")


def run(server, tmp_path: Path, name: str, side: str) -> dict:
    return run_scenario(server, request(SMALL, TARGET, tmp_path / name, side))


def plain(v: dict) -> dict:
    """A verdict without the measures its report examples name (the built-in side carries none)."""
    strip = lambda es: [{k: x for k, x in e.items() if k != "measures"} for e in es]  # noqa: E731
    zones = [z | {"examples": strip(z["examples"]),
                  **({"windows": [w | {"examples": strip(w["examples"])} for w in z["windows"]]} if "windows" in z
                     else {})} for z in v["zones"]]
    return v | {"zones": zones}


def failed(v: dict) -> dict[str, str]:
    return {c["name"]: c["observed"] for c in v["checks"] if not c["ok"]}


@pytest.mark.one_server
def test_the_team_queries_read_as_faithful_does_and_their_costs_are_judged(server, tmp_path):
    runs = {name: run(server, tmp_path, name, side)
            for name, side in (("builtin", "faithful"), ("theirs", str(TEAM / "read_side.toml")))}
    assert runs["theirs"]["ok"], failed(runs["theirs"])
    assert plain({k: runs["theirs"][k] for k in SAME}) == {k: runs["builtin"][k] for k in SAME}
    kolkata = next(z for z in runs["theirs"]["zones"] if z["name"] == "Asia/Kolkata")
    assert "cost_usd_ticks" in kolkata["examples"][0]["measures"]  # misplaced by hours, as the tokens are (B10)
    frames = {name: {kind: pl.concat([pl.read_parquet(f) for f in sorted((tmp_path / name).rglob(f"*.{kind}.parquet"))])
                     for kind in ("reports", "windows")} for name in runs}
    for kind in ("reports", "windows"):
        theirs, builtin = frames["theirs"][kind], frames["builtin"][kind]
        assert theirs.height > 0 and theirs.select(builtin.columns).equals(builtin)  # row for row
    costs = frames["theirs"]["reports"].filter(pl.col("kind") == "workspace_daily")
    assert costs.get_column("cost_usd_ticks").sum() > 0 and costs.get_column("uncosted_input_tokens").sum() > 0
    assert costs.get_column("uncosted_input_tokens").sum() < costs.get_column("input_tokens").sum()


COST = "sum(cost_usd_ticks)::bigint AS cost_ticks"


@pytest.mark.one_server
@pytest.mark.parametrize("name, changes, report, measure", [
    ("cost0", [("usage.sql", COST, "0::bigint AS cost_ticks"), ("runtime.sql", COST, "0::bigint AS cost_ticks")],
     "workspace_daily", "cost_usd_ticks"),
    ("uncosted", [("usage.sql", "sum(uncosted_input_tokens)::bigint AS uncosted_input, sum(uncosted_output_tokens)",
                   "sum(uncosted_input_tokens)::bigint AS uncosted_input, sum(uncosted_input_tokens)")],
     "workspace_daily", "uncosted_output_tokens"),
])
def test_a_wrong_measure_in_a_report_fails_naming_the_report_and_the_measure(server, tmp_path, name, changes,
                                                                           report, measure):
    v = run(server, tmp_path, name, team(tmp_path, *changes))
    observed = failed(v)
    assert set(observed) == {"report-grain pipeline drift"}, observed
    line = observed["report-grain pipeline drift"]  # as the terminal prints it: `failed <name>: <observed>`
    assert f"the first: {report} (" in line and f"{measure} off by " in line, line
    assert not re.search(r"\btokens off by", line)  # the token sums are right: only the measure is named
    example = next(e for z in v["zones"] for e in z["examples"] if e["kind"] == "drift")
    assert set(example["measures"]) == {measure} and example["tokens_off"] == 0


# A decimal cost (tests/targets/cost_measures: cost_usd numeric(12, 6)), carried by a plain .sql read side under its
# measure's own name: judged without a mapping, exactly — a cost rounded to cents is wrong.
DECIMAL = f"{MIGRATIONS_ROOT / 'reference'},{HERE / 'targets' / 'cost_measures'}"
FAITHFUL = (MIGRATIONS_ROOT.parent / "rollup" / "read_sides" / "faithful.sql").read_text()
TASKS = "sum(task_count)::bigint AS task_count"


@pytest.mark.slow
@pytest.mark.one_server
@pytest.mark.parametrize("cost, ok", [("sum(cost_usd)", True), ("round(sum(cost_usd), 2)", False)])
def test_a_decimal_cost_named_as_its_measure_is_judged_exactly(server, tmp_path, cost, ok):
    daily, rest = FAITHFUL.split("-- name: WorkspaceUsageByAgent")
    assert daily.count(TASKS) == 1
    side = tmp_path / "usage.sql"
    side.write_text(daily.replace(TASKS, f"{TASKS}, {cost} AS cost_usd") + "-- name: WorkspaceUsageByAgent" + rest)
    v = run_scenario(server, request(SMALL, DECIMAL, tmp_path / "run", str(side)))
    assert v["ok"] is ok, failed(v)
    if not ok:
        assert "workspace_daily (" in failed(v)["report-grain pipeline drift"]
        example = next(e for z in v["zones"] for e in z["examples"] if e["kind"] == "drift")
        assert set(example["measures"]) == {"cost_usd"} and "." in example["measures"]["cost_usd"]  # a decimal's text
