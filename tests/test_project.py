"""A project's configuration ([tool.rollup-bench] in pyproject.toml, or rollup-bench.toml; bench/orchestrate/project.py): found
from the current directory, validated with file, key and line, overridden by the command line; and the gate of a
scratch project that holds only its configuration and copies of the migrations."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.orchestrate import project
from bench.orchestrate.execute import SCENARIOS
from bench.cli.main import app
from bench.workload.scenario import Expectation, ScenarioError
from rollup.migrations import MIGRATIONS_ROOT

cli = CliRunner()


def write(folder: Path, text: str, name: str = "pyproject.toml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def test_found_in_the_nearest_folder_and_read(tmp_path, monkeypatch):
    (tmp_path / "db" / "a").mkdir(parents=True)
    write(tmp_path, """\
        [project]
        name = "theirs"

        [tool.rollup-bench]
        migrations = ["db/a"]
        read_side = "hardened"
        server = "local"
        report_dir = "out"
        jobs = 3

        [tool.rollup-bench.expect.B10]
        reproduced = true
        """)
    (tmp_path / "deep" / "er").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "deep" / "er")
    assert project.find() == tmp_path / "pyproject.toml"
    p = project.load()
    assert p.target == str((tmp_path / "db" / "a").resolve()) and p.read_side == "hardened"
    assert (p.server, p.report_dir, p.jobs) == ("local", tmp_path / "out", 3)
    assert p.expectation("B10", Expectation(reproduced=False)) == Expectation(reproduced=True)
    assert p.expectation("B1", Expectation(reproduced=False)) == Expectation(reproduced=False)


def test_a_pyproject_without_the_table_is_not_a_configuration(tmp_path, monkeypatch):
    write(tmp_path, "[project]\nname = 'x'\n")
    monkeypatch.chdir(tmp_path)
    assert project.find() is None and project.load() == project.Project()
    write(tmp_path, "target = 'hardened'\n", "rollup-bench.toml")
    assert project.load().target == "hardened"


@pytest.mark.parametrize("body, key, line, message", [
    ("colour = 'red'\n", "tool.rollup-bench.colour", 2, "unknown key"),
    ("migrations = ['nowhere']\n", "tool.rollup-bench.migrations", 2, "not a directory"),
    ("target = 'mine'\n", "tool.rollup-bench.target", 2, "not one of"),
    ("read_side = 'sideways'\n", "tool.rollup-bench.read_side", 2, "not one of"),
    ("server = 'dsn'\n", "tool.rollup-bench.dsn", None, "needs dsn"),
    ("scenarios = ['none/*.toml']\n", "tool.rollup-bench.scenarios", 2, "names no scenario file"),
    ("jobs = 'two'\n", "tool.rollup-bench.jobs", 2, "expected integer"),
    ("[tool.rollup-bench.expect.B1]\nhour_drift = 'lots'\n", "tool.rollup-bench.expect.B1.hour_drift", 3, "not one of"),
])
def test_bad_keys_name_the_file_the_key_and_the_line(tmp_path, body, key, line, message):
    path = write(tmp_path, "[tool.rollup-bench]\n" + body)
    with pytest.raises(ScenarioError) as info:
        project.load(path)
    e = info.value
    assert (e.file, e.key) == (str(path), key) and message in e.message
    if line:
        assert e.line == line


CASES = ("B1", "B13", "L1")  # reproductions whose fixes are separate hardened files


def scratch(tmp_path: Path, drop: str | None = None) -> Path:
    """A project with copies of the reference and hardened migrations (less `drop`), the hardened read side, and
    some reproductions as its scenarios (the gate's whole set, its generated runs included, is measured by hand:
    see the README)."""
    root = tmp_path / "theirs"
    for name in ("reference", "hardened"):
        shutil.copytree(MIGRATIONS_ROOT / name, root / "db" / name)
    if drop:
        (root / "db" / "hardened" / drop).unlink()
    (root / "cases").mkdir()
    for case in CASES:
        shutil.copy(SCENARIOS / "repro" / f"{case}.toml", root / "cases")
    write(root, """\
        [tool.rollup-bench]
        migrations = ["db/reference", "db/hardened"]
        read_side = "hardened"
        scenarios = ["cases/*.toml"]
        report_dir = "reports"
        """)
    return root


def test_the_gate_of_a_scratch_project_runs_what_its_file_says(tmp_path, monkeypatch):
    monkeypatch.chdir(scratch(tmp_path))
    result = cli.invoke(app, ["gate", "--jobs", "2", "--junit", "junit.xml"])
    assert result.exit_code == 0, result.output
    assert f"{len(CASES)} of {len(CASES)} run(s) passed" in result.output and "project: " in result.output
    assert Path("junit.xml").exists() and len(list(Path("reports").glob("*.history.jsonl"))) == len(CASES)


def test_with_a_fix_removed_the_gate_fails_and_names_what_broke(tmp_path, monkeypatch):
    monkeypatch.chdir(scratch(tmp_path, drop="107_agent_dirty_trigger.up.sql"))  # the B1 fix
    result = cli.invoke(app, ["gate", "--jobs", "2"])
    assert result.exit_code == 1, result.output
    failed = [line.split()[1] for line in result.output.splitlines() if line.startswith("FAIL ")]
    assert failed == ["B1"], result.output
    # the command line wins over the file: its own target passes where the file's fails
    assert cli.invoke(app, ["gate", "--jobs", "2", "--target", "hardened"]).exit_code == 0


def test_an_override_for_a_scenario_not_in_the_set_is_refused(tmp_path, monkeypatch):
    root = scratch(tmp_path)
    with (root / "pyproject.toml").open("a") as f:
        f.write("\n[tool.rollup-bench.expect.B99]\nreproduced = true\n")
    monkeypatch.chdir(root)
    result = cli.invoke(app, ["gate"])
    assert result.exit_code == 2 and "expect.B99: no scenario named 'B99'" in result.output, result.output


def test_run_reads_the_project_and_absolute_globs_name_scenarios(tmp_path, monkeypatch):
    root = tmp_path / "theirs"
    (root / "cases").mkdir(parents=True)
    shutil.copy(SCENARIOS / "repro" / "B1.toml", root / "cases")
    write(root, f"""\
        [tool.rollup-bench]
        target = "hardened"
        scenarios = ["{root}/cases/*.toml"]
        report_dir = "out"
        """)
    monkeypatch.chdir(root)
    assert project.load().scenarios == (str((root / "cases" / "B1.toml").resolve()),)  # absolute: no traceback
    result = cli.invoke(app, ["run", "cases/B1.toml"])
    assert result.exit_code == 0, result.output  # B1 converges on the project's target, not the default's
    assert list((root / "out").glob("B1-hardened-seed*.history.jsonl")), result.output


def test_jobs_0_is_refused_everywhere_and_help_keeps_its_brackets(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for argv in (["gate", "--jobs", "0"], ["run", "x.toml", "--seeds", "1-2", "--jobs", "0"],
                 ["run", "x.toml", "-j", "-1"]):
        result = cli.invoke(app, argv)
        assert result.exit_code == 2 and result.output.strip().startswith("error: --jobs"), result.output
        assert result.output.count("\n") == 1
    write(tmp_path, "jobs = 0\n", "rollup-bench.toml")
    result = cli.invoke(app, ["gate"])
    assert result.exit_code == 2 and "jobs: 0 out of range" in result.output, result.output
    for command in ("gate", "run"):
        text = " ".join(cli.invoke(app, [command, "--help"], terminal_width=200).output.split())
        assert "the project's [tool.rollup-bench] says" in text, text
