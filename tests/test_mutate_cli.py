"""`rollup-bench mutate` end to end on real PostgreSQL, kept short with a scripted peer case: a mutant of the
hardened chain that stops re-enqueuing on a runtime change is killed, one that only changes a plan setting
survives; an equivalents file takes the survivor out of the score; --min-score decides the exit code."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bench.cli.main import app
from bench.orchestrate.execute import SCENARIOS

cli = CliRunner()
KILLABLE = "105:52:22:update-of-column"  # runtime_id dropped from the task trigger's UPDATE OF
SURVIVOR = "114:7:1:drop-statement"  # the window's jit setting removed: plans change, results do not
BASE = ["mutate", "--target", "hardened", "--scenarios", str(SCENARIOS / "peer" / "runtime_reassign.toml"),
        "--files", "105,114", "--ids", f"{KILLABLE},{SURVIVOR}", "--jobs", "1"]


@pytest.mark.slow
def test_one_killed_one_survives_and_min_score_fails(tmp_path):
    result = cli.invoke(app, [*BASE, "--report-dir", str(tmp_path), "--min-score", "0.9"])
    assert result.exit_code == 1, result.output
    report = json.loads((tmp_path / "mutation.json").read_text())
    status = {m["id"]: m for m in report["mutants"]}
    assert status[KILLABLE]["status"] == "killed" and status[KILLABLE]["killed_by"] == "runtime_reassign"
    assert status[SURVIVOR]["status"] == "survived" and status[SURVIVOR]["passed"] == ["runtime_reassign"]
    assert "-ALTER FUNCTION rollup_task_usage_hourly_window" in status[SURVIVOR]["diff"]
    assert report["total"]["score"] == 0.5
    assert "below --min-score 90.0%" in result.output
    # not a terminal: plain progress lines, the unmutated chain's round then each round of mutants
    assert "mutate: the unmutated chain" in result.output and "on 2 mutant(s)" in result.output, result.output
    md = (tmp_path / "mutation.md").read_text()
    assert SURVIVOR in md and "```diff" in md and "| all | 2 | 1 | 1 |" in md
    assert "<h3><code>114:7:1:drop-statement</code>" in (tmp_path / "mutation.html").read_text()
    assert not (tmp_path / "runs" / "105-52-22-update-of-column").exists()  # a killed mutant's runs are not kept


@pytest.mark.slow
def test_equivalents_leave_the_score_and_pass_min_score(tmp_path):
    eq = tmp_path / "eq.toml"
    eq.write_text(f'[[equivalent]]\nid = "{SURVIVOR}"\nreason = "jit changes plans, not results"\n')
    result = cli.invoke(app, [*BASE, "--report-dir", str(tmp_path), "--equivalents", str(eq), "--min-score", "90"])
    assert result.exit_code == 0, result.output
    total = json.loads((tmp_path / "mutation.json").read_text())["total"]
    assert (total["killed"], total["survived"], total["equivalent"], total["score"]) == (1, 0, 1, 1.0)


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "eq.toml"
    bad.write_text("[[equivalent]]\nid = 3\n")
    for args, says in [(["--equivalents", str(bad)], "exactly id and reason"),
                       (["--ids", "999:1:1:cmp"], "no mutant '999:1:1:cmp'"),
                       (["--min-score", "150"], "--min-score"),
                       (["--scenarios", str(tmp_path / "none.toml")], "is not a file")]:
        result = cli.invoke(app, [*BASE, *args])
        assert result.exit_code == 2, result.output
        assert result.output.strip().splitlines()[-1].startswith("error: ") and says in result.output
