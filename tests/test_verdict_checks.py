"""Every check of a verdict shown to fire: for each, a target or an input that breaks exactly the promise it
guards, and a verdict where that check — and no other — fails. The same workload on the plain reference passes
every check, so each failure below is the break's doing."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.orchestrate.execute import rejudge
from bench.cli.main import app
from bench.drive import reads, snapshots
from bench.drive.runner import Run, RunHooks, RunSpec, prepare, run
from bench.judge.checker import for_run
from bench.judge.verdict import evaluate
from bench.workload.generator import generate
from bench.workload.ops import Op
from bench.workload.scenario import loads
from rollup.migrations import MIGRATIONS_ROOT, Target
from rollup.readside import read_report

TARGETS = Path(__file__).parent / "targets"
SMALL = """
[scenario]
name = "checks"
seed = 5
start = 2026-03-02T12:00:00Z  # across midnight in UTC and in Adelaide (13:30 UTC)
duration = "12h"
[tenants]
workspaces = 2
issues = 5
[rates]
tasks_per_hour = 6.0
chat_share = 0.5
[operations]
per_hour = 4.0
[operations.weights]
delete_usage = 2
delete_task = 3
link_issue = 3
[pipeline]
check_every = "6h"
[zones]
view = ["UTC", "Australia/Adelaide"]
[expect.default]
representation_error = "non_whole_hour_only"
"""
cli = CliRunner()


def overlay(name: str) -> str:
    return f"{MIGRATIONS_ROOT / 'reference'},{TARGETS / name}"


def judge(server, tmp_path: Path, target: str = "reference", text: str = SMALL) -> dict:
    sc = loads(text)
    tgt = Target.resolve(target)
    return evaluate(run(server, RunSpec(sc, text, tgt, tmp_path / "h.jsonl"), generate(sc), RunHooks(judge=for_run(sc, tgt.reads.exact))))


def failed(v: dict) -> set[str]:
    return {c["name"] for c in v["checks"] if not c["ok"]}


def observed(v: dict, name: str) -> str:
    return next(c["observed"] for c in v["checks"] if c["name"] == name)


def test_the_workload_passes_every_check_on_the_reference(server, tmp_path):
    v = judge(server, tmp_path)
    assert v["ok"] and failed(v) == set()
    names = {c["name"] for c in v["checks"]}
    assert {"hour-grain drift", "report-grain pipeline drift", "representation error", "history applied as recorded",
            "EXCEPT ALL second opinion agrees", "operations succeeded", "something was tested",
            "report queries answered"} <= names
    kinds = v["operations"]["by_kind"]
    assert kinds["usage"] and kinds["delete_task"] and kinds["link_issue"]  # the breaks below have work to hit


def count_off(tmp_path: Path) -> Path:
    """A migration whose rollup event counts are one too many: wrong at hour grain, invisible to token reports."""
    tmp = tmp_path / "count_off"
    tmp.mkdir()
    (tmp / "900_count_off.up.sql").write_text(
        "CREATE FUNCTION count_off() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN NEW.event_count := NEW.event_count + 1; RETURN NEW; END $$;\n"
        "CREATE TRIGGER trg_count_off BEFORE INSERT OR UPDATE ON task_usage_hourly\n"
        "    FOR EACH ROW EXECUTE FUNCTION count_off();\n")
    return tmp


def test_hour_grain_drift(server, tmp_path):
    """A rollup whose event counts are one too many: wrong at hour grain, invisible to token reports."""
    tmp = count_off(tmp_path)
    v = judge(server, tmp_path, f"{MIGRATIONS_ROOT / 'reference'},{tmp}")
    assert failed(v) == {"hour-grain drift"}, v["checks"]
    assert v["drift"]["mismatched"] > 0


def test_report_grain_pipeline_drift(server, tmp_path, monkeypatch):
    """A read side whose day boundary is an hour off in UTC (23:00 is tomorrow's): the rollup is right, its
    reports are not."""
    def off_by_an_hour(conn, q, scope_id, project_id=None, side=None):
        q = replace(q, zone="Etc/GMT-1") if q.zone == "UTC" else q
        return read_report(conn, q, scope_id, project_id, side)

    monkeypatch.setattr(reads, "read_report", off_by_an_hour)
    v = judge(server, tmp_path)
    assert failed(v) == {"report-grain pipeline drift"}, v["checks"]
    assert next(z for z in v["zones"] if z["name"] == "UTC")["pipeline_drift"] > 0


def test_history_applied_as_recorded(server, tmp_path):
    """Usage times cut to whole seconds behind the client's back: each row stays in its hour."""
    v = judge(server, tmp_path, overlay("second_precision"))
    assert failed(v) == {"history applied as recorded"}, v["checks"]


def test_except_all_second_opinion(server, tmp_path, monkeypatch):
    """A duplicated rollup row — one no GROUP BY can produce — matches the truth key for key, so only the
    in-database EXCEPT ALL, which counts rows with their multiplicity, sees it. The row is older than the
    reports' window (one day), so no report sums it twice (the further 1- and 7-day windows left unread)."""
    monkeypatch.setattr(snapshots, "WINDOWS", ())
    text = SMALL.replace('duration = "12h"', 'duration = "2d"').replace("[zones]", "[zones]\nreport_days = 1")
    sc = loads(text)
    target = Target.resolve("reference")
    ops = list(generate(sc))
    final = ops.pop()
    assert final.name == "check" and final.get("final")
    with prepare(server, sc, target) as db:
        r = Run(RunSpec(sc, text, target, tmp_path / "h.jsonl"), db, RunHooks(judge=for_run(sc, target.reads.exact)), server)
        try:
            r.execute(ops)
            r.tick(Op("tick", final.at, 0, {"conn": "pool", "wait": True}))  # the final check's catch-up tick
            with db.connect() as conn:
                (unique,) = conn.execute("SELECT conname FROM pg_constraint WHERE contype = 'u'"
                                         " AND conrelid = 'task_usage_hourly'::regclass").fetchone()
                conn.execute(f'ALTER TABLE task_usage_hourly DROP CONSTRAINT "{unique}"')
                conn.execute("INSERT INTO task_usage_hourly SELECT * FROM task_usage_hourly ORDER BY bucket_hour LIMIT 1")
            r.execute([final])
        finally:
            r.close()
        v = evaluate(r.result())
    assert failed(v) == {"EXCEPT ALL second opinion agrees"}, v["checks"]
    assert observed(v, "EXCEPT ALL second opinion agrees") == "1 extra / 0 missing"


def test_representation_error_in_a_whole_hour_zone(server, tmp_path, monkeypatch):
    """Australia/Adelaide (UTC+10:30) taken for a whole-hour zone: its days cannot be cut from UTC hours, and the check says so."""
    monkeypatch.setattr("bench.judge.days.whole_hour", lambda zone, start, end: True)
    v = judge(server, tmp_path)
    assert failed(v) == {"representation error"}, v["checks"]
    assert "Australia/Adelaide" in observed(v, "representation error")


def test_unexpected_operation_failures(server, tmp_path):
    v = judge(server, tmp_path, overlay("strict_usage"))
    assert failed(v) == {"operations succeeded"}, v["checks"]
    assert v["failures"]["usage"]["count"] > 0 and set(v["failures"]) == {"usage"}
    text = observed(v, "operations succeeded")
    assert " usage failed (first: op #" in text and "23514" in text  # the kind, the count, the first error


def test_expected_failures_pass_and_unmet_expectations_fail(server, tmp_path):
    allowed = SMALL + 'failures = { usage = "some" }\n'
    assert failed(judge(server, tmp_path, overlay("strict_usage"), allowed)) == set()
    assert failed(judge(server, tmp_path / "b", "reference", allowed)) == {"operations succeeded"}


def test_a_report_error(server, tmp_path):
    v = judge(server, tmp_path, text=SMALL.replace('"Australia/Adelaide"]', '"Australia/Adelaide", "Local"]'))
    assert failed(v) == {"report queries answered"}, v["checks"]
    assert observed(v, "report queries answered").startswith("Local: ")


def test_a_run_that_tested_nothing(server, tmp_path):
    v = judge(server, tmp_path, overlay("no_usage"), SMALL + 'failures = { usage = "any" }\n')
    assert failed(v) == {"something was tested"}, v["checks"]
    assert "empty truth" in observed(v, "something was tested")


@pytest.mark.parametrize("target, kind", [("strict_usage", "usage"), ("refuse_chat_deletes", "delete_task")])
def test_run_exits_1_naming_the_failing_writes(tmp_path, target, kind):
    scenario = tmp_path / "small.toml"
    scenario.write_text(SMALL)
    out = tmp_path / "verdict.json"
    result = cli.invoke(app, ["run", str(scenario), "--target", overlay(target), "--report-dir",
                              str(tmp_path / "r"), "--json", str(out)])
    assert result.exit_code == 1, result.output
    v = json.loads(out.read_text())
    assert failed(v) == {"operations succeeded"}
    assert f" {kind} failed" in result.output and "rollup-bench replay" in result.output


def test_divergence_attributed(server, tmp_path):
    """The same uncatalogued drift where drift is expected (as on a faithful target under chaos): the drift
    check passes, and the attribution fails on keys no catalogue mechanism explains."""
    tmp = count_off(tmp_path)
    text = SMALL.replace("[expect.default]\n", "[expect.default]\nhour_drift = \"some\"\n")
    v = judge(server, tmp_path, f"{MIGRATIONS_ROOT / 'reference'},{tmp}", text)
    assert failed(v) == {"divergence attributed"}, v["checks"]
    a = v["attribution"]
    assert a["unexplained_keys"] == a["keys"] > 0 and a["unexplained"][0]["replay"].count("--only") == 1


def test_every_rollup_table_is_judged_at_its_grain(server, tmp_path):
    """Hardened keeps task_usage_quarter_hourly (declared in its rollups.toml): the verdict lists it beside the
    hourly table, each with its own drift; a copy that never deletes emptied quarter-hour rows fails on that table
    alone, and is judged the same offline."""
    good = judge(server, tmp_path, "hardened")
    assert [t["table"] for t in good["tables"]] == ["task_usage_hourly", "task_usage_quarter_hourly"]
    assert good["tables"][1] == {"table": "task_usage_quarter_hourly", "grain_minutes": 15, "missing": 0, "extra": 0,
                                 "mismatched": 0}
    assert observed(good, "task_usage_quarter_hourly drift").startswith("0 bad key(s)") and not failed(good)
    broken = f"{MIGRATIONS_ROOT / 'reference'},{MIGRATIONS_ROOT / 'hardened'},{TARGETS / 'keep_empty_quarters'}"
    v = judge(server, tmp_path / "broken", broken)
    assert failed(v) == {"task_usage_quarter_hourly drift"}, v["checks"]
    assert v["tables"][0]["extra"] == 0 and v["tables"][1]["extra"] > 0
    again = evaluate(rejudge(tmp_path / "broken" / "h.jsonl"))
    assert again["tables"] == v["tables"] and again["checks"] == v["checks"]


def test_a_breaker_may_fail_but_not_for_a_defect_of_the_sql_it_ran():
    """An assumption breaker (change_usage_key) may meet a unique violation; a trigger that touches one queue row
    twice in a statement (21000) is the chain's defect, and fails the run, unless the scenario names the kind."""
    from types import SimpleNamespace

    from bench.drive.history import count_failure
    from bench.judge.verdict import _failure_checks
    from bench.workload.scenario import Expectation

    def judged(*errors: str, exp: Expectation = Expectation()) -> dict:
        failures: dict = {}
        for i, e in enumerate(errors):
            count_failure(failures, "change_usage_key", i, 1_772_445_600_000_000, e)
        return _failure_checks(SimpleNamespace(failures=failures), exp)[0]

    unique = "23505: duplicate key value violates unique constraint"
    twice = "21000: ON CONFLICT DO UPDATE command cannot affect row a second time"
    assert judged(unique, unique)["ok"]
    c = judged(unique, twice)
    assert not c["ok"], c
    assert c["observed"].startswith("1 change_usage_key failed for a defect of the SQL (first: op #1"), c
    assert judged(twice, exp=Expectation(failures={"change_usage_key": "any"}))["ok"]
