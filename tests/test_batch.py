"""Many runs at once (bench/orchestrate/batch.py): verdicts and histories that do not depend on the number of workers, a
server per worker (so one run's restart fault leaves the others alone), clones of a migrated template that are
the same as migrating afresh; and what CI reads from a batch (bench/cli/ci.py): JUnit XML and a Markdown summary."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from junitparser import Failure, JUnitXml, Skipped
from typer.testing import CliRunner

from bench.cli import ci
from bench.judge.record import Verdict
from bench.orchestrate.batch import no_verdicts, parse_seeds, run_requests
from bench.orchestrate.execute import SCENARIOS, run_scenario
from bench.orchestrate.request import RunRequest, ScenarioText
from bench.cli.main import app
from rollup.migrations import Target, Templates
from rollup.readside import ReadSideError
from rollup.servers import start_server
from tests.helpers import MINI

cli = CliRunner()



@pytest.fixture(scope="module")
def mini(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("mini") / "mini.toml"
    path.write_text(MINI)
    return path


def test_parse_seeds():
    assert parse_seeds("3") == [3]
    assert parse_seeds("1-4") == [1, 2, 3, 4]
    assert parse_seeds("1,5,3-4,5") == [1, 5, 3, 4]
    for bad in ("", "a-b", "5-1", "1-"):
        with pytest.raises(ValueError, match="--seeds"):
            parse_seeds(bad)


def test_verdicts_and_histories_do_not_depend_on_the_number_of_workers(mini, tmp_path):
    restart = SCENARIOS / "peer" / "restart.toml"
    jobs = lambda d: [RunRequest(ScenarioText.read(mini), t, seed=2, report_dir=tmp_path / d)  # noqa: E731
                      for t in ("reference", "hardened")
                      ] + [RunRequest(ScenarioText.read(restart), "reference", report_dir=tmp_path / d)]
    one, two = run_requests(jobs("one"), 1), run_requests(jobs("two"), 2)
    assert not no_verdicts(one) and not no_verdicts(two)
    assert [v["history_sha256"] for v in one] == [v["history_sha256"] for v in two]
    assert [v["checks"] for v in one] == [v["checks"] for v in two]
    assert [(v["scenario"], v["seed"], v["target"], v["server"], v["read_side"]) for v in two[:2]] == [
        ("mini", 2, "reference", "embedded", "faithful"), ("mini", 2, "hardened", "embedded", "hardened")]
    assert two[2]["scenario"] == "restart"  # in the order asked for, whichever finished first
    assert all(v["ok"] for v in two[1:]), [c for v in two[1:] for c in v["checks"] if not c["ok"]]
    assert all(v["operations"]["by_kind"].get("restart", 0) for v in two)  # the restarts happened


def test_a_clone_of_the_template_runs_as_a_fresh_migration(mini, tmp_path):
    with start_server("embedded") as server:
        templates = Templates(server)
        req = lambda d: RunRequest(ScenarioText.read(mini), "hardened", report_dir=tmp_path / d)  # noqa: E731
        fresh = run_scenario(server, req("fresh"))
        cloned = [run_scenario(server, req(f"clone{i}"), templates=templates) for i in (1, 2)]
        assert len(templates.made) == 1  # one template, cloned twice
        templates.drop()
    assert fresh["history_sha256"] == cloned[0]["history_sha256"] == cloned[1]["history_sha256"]
    assert fresh["checks"] == cloned[0]["checks"]


def test_a_run_without_a_verdict_is_reported_and_the_others_still_run(mini, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "999_broken.up.sql").write_text("SELECT nothing FROM nowhere;\n")
    target = f"{Target.resolve('reference').dirs[0]},{broken}"
    jobs = [RunRequest(ScenarioText.read(mini), "reference", report_dir=tmp_path),
            RunRequest(ScenarioText.read(mini), target, report_dir=tmp_path)]
    results = run_requests(jobs, 2)
    assert results[0].ok
    [error] = no_verdicts(results)
    assert error.code == 1 and "999_broken" in str(error) and error.request == jobs[1]


def test_read_side_is_chosen_and_checked():
    assert Target.resolve("reference", "hardened").read_side == "hardened"
    assert Target.resolve("hardened", "faithful").read_side == "faithful"
    assert Target.resolve("hardened").read_side == "hardened"
    with pytest.raises(ReadSideError, match="read side 'sideways'"):
        Target.resolve("reference", "sideways")


def verdict(ok: bool, scenario: str = "steady", server: str = "embedded") -> Verdict:
    check = {"name": "hour-grain drift", "expected": "none", "observed": "0 bad key(s)" if ok else "3 bad key(s)",
             "ok": ok}
    key = {"bucket_hour": "2026-03-02T10:00:00+00:00", "agent_id": "a" * 36, "runtime_id": "r" * 36,
           "project_id": None, "provider": "p", "model": "m"}
    return Verdict.from_json({
        "scenario": scenario, "seed": 1, "target": "reference", "read_side": "faithful", "server": server,
        "server_version": "18.6", "ok": ok, "checks": [check], "wall_seconds": 1.5,
        "bad_keys": [] if ok else [{"status": "missing", "key": key, "deltas": {"input_tokens": 5}}],
        "replay": f"rollup-bench replay {scenario}.history.jsonl --target reference",
        "report": f"{scenario}.md", "history": f"{scenario}.history.jsonl"})


def test_junit_has_a_testcase_per_run_and_a_failure_that_says_how_to_replay(tmp_path):
    path = tmp_path / "junit.xml"
    ci.junit([verdict(True, "B1"), verdict(False, "steady"), verdict(True, "B1", "local")], path)
    xml = JUnitXml.fromfile(str(path))
    suites = list(xml)
    assert [s.name for s in suites] == ["rollup-bench reference (faithful read side) on embedded",
                                        "rollup-bench reference (faithful read side) on local"]
    assert (xml.tests, xml.failures, xml.errors) == (3, 1, 0)
    cases = {(s.name.rsplit(" ", 1)[1], c.name): c for s in suites for c in s}
    failed = cases[("embedded", "steady seed 1")]
    [failure] = failed.result
    assert isinstance(failure, Failure) and "hour-grain drift: 3 bad key(s)" in failure.message
    assert "rollup-bench replay steady.history.jsonl" in failure.text and "report: steady.md" in failure.text
    assert "bad key missing" in failure.text
    assert not cases[("local", "B1 seed 1")].result and cases[("local", "B1 seed 1")].time == 1.5


def test_junit_shows_a_run_the_chain_cannot_carry_out_as_skipped(tmp_path):
    path = tmp_path / "junit.xml"
    na = replace(verdict(True, "B7"), not_applicable="migration 102 is not in this chain")
    ci.junit([na, verdict(True, "B1")], path)
    (suite,) = list(JUnitXml.fromfile(str(path)))
    assert suite.skipped == 1 and suite.failures == 0
    cases = {c.name: c for c in suite}
    [skipped] = cases["B7 seed 1"].result
    assert isinstance(skipped, Skipped) and "migration 102 is not in this chain" in skipped.message
    assert not cases["B1 seed 1"].result


def test_summary_puts_failures_first_with_their_replay():
    text = ci.summary([verdict(True, "B1"), verdict(False, "steady"), verdict(True, "B1", "local")], "gate")
    lines = text.splitlines()
    assert lines[0] == "## gate: FAIL"
    rows = [line for line in lines if line.startswith("| ") and "seed" in line]
    assert rows[0].startswith("| steady seed 1 | **FAIL**: hour-grain drift: 3 bad key(s) | – |")
    assert rows[1] == "| B1 seed 1 | pass | pass |"
    assert "`rollup-bench replay steady.history.jsonl --target reference`" in text


@pytest.mark.skipif(not shutil.which("initdb"), reason="no local PostgreSQL: initdb is not on PATH")
def test_run_seeds_across_servers_in_parallel_writes_junit_and_summary(mini, tmp_path):
    junit, summary, out = tmp_path / "j.xml", tmp_path / "s.md", tmp_path / "all.json"
    result = cli.invoke(app, ["run", str(mini), "--target", "hardened", "--seeds", "1-2", "--pg", "embedded,local",
                              "--jobs", "2",
                              "--report-dir", str(tmp_path / "r"), "--junit", str(junit), "--summary", str(summary),
                              "--json", str(out)])
    assert result.exit_code == 0, result.output
    runs = json.loads(out.read_text())["runs"]
    assert sorted((v["seed"], v["server"]) for v in runs) == [(1, "embedded"), (1, "local"), (2, "embedded"),
                                                              (2, "local")]
    assert {v["server_version"].split(".")[0] for v in runs} == {"18", "15"}
    assert (tmp_path / "r" / "local" / "mini-hardened-seed2.history.jsonl").exists()
    assert JUnitXml.fromfile(str(junit)).tests == 4
    assert "4 of 4 run(s) passed" in summary.read_text()


def test_run_seeds_bad_input_exits_2(mini):
    for argv, message in ((["--seeds", "x"], "--seeds 'x'"), (["--seed", "1", "--seeds", "1-2"], "one or the other"),
                          (["--seeds", "1", "--jobs", "0"], "--jobs"), (["--pg", "embedded,nosuch"], "nosuch")):
        result = cli.invoke(app, ["run", str(mini), *argv])
        assert result.exit_code == 2 and message in result.output, result.output
