"""End to end: generate, apply, tick, check — on both server versions — and the CLI's verdicts and exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.cli.main import app
from bench.drive.history import History
from bench.drive.runner import RunHooks, RunSpec, run
from bench.judge.checker import for_run
from bench.workload.generator import generate
from bench.workload.scenario import loads
from rollup.migrations import MIGRATIONS_ROOT, Target

SMALL = """
[scenario]
name = "small"
seed = 11
duration = "1d"
[tenants]
workspaces = 2
issues = 5
[rates]
tasks_per_hour = 4.0
[operations]
per_hour = 3.0
[operations.weights]
delete_usage = 4
[pipeline]
check_every = "12h"
[zones]
view = ["UTC", "Asia/Kolkata"]
"""
cli = CliRunner()


def test_generator_is_deterministic_per_seed():
    sc = loads(SMALL)
    a, b = generate(sc), generate(sc)
    assert [(o.name, o.at, o.session, o.value) for o in a] == [(o.name, o.at, o.session, o.value) for o in b]
    c = generate(loads(SMALL.replace("seed = 11", "seed = 12")))
    assert [o.value for o in a] != [o.value for o in c]
    kinds = {o.name for o in a}
    assert {"usage", "task", "delete_usage", "check"} <= kinds
    assert [o.value["final"] for o in a if o.name == "check"] == [False, True]


def test_run_converges_on_reference_with_identical_history_per_seed(server, tmp_path):
    sc = loads(SMALL)
    first = run(server, RunSpec(sc, SMALL, Target.resolve("reference"), tmp_path / "a.jsonl"), generate(sc), RunHooks(judge=for_run(sc, False)))
    second = run(server, RunSpec(sc, SMALL, Target.resolve("reference"), tmp_path / "b.jsonl"), generate(sc), RunHooks(judge=for_run(sc, False)))
    assert first.history_sha256 == second.history_sha256
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert [c.hour.summary for c in first.checks] == [{"missing": 0, "extra": 0, "mismatched": 0}] * 2
    final = first.checks[-1]
    assert final.apply_errors == 0 and final.except_all == (0, 0)
    assert first.operations["delete_usage"] > 0 and first.ticks >= 288
    replayed = run(server, RunSpec(sc, SMALL, Target.resolve("reference"), tmp_path / "c.jsonl"), History.load(tmp_path / "a.jsonl").replay(), RunHooks(replaying=True, judge=for_run(sc, False)))
    assert replayed.history_sha256 == first.history_sha256


def weakened_copy(tmp_path: Path) -> Path:
    """The reference with its task_usage delete trigger dropped: direct usage deletes go unnoticed."""
    target = tmp_path / "weakened"
    shutil.copytree(MIGRATIONS_ROOT / "reference", target)
    (target / "102_zz_weaken.up.sql").write_text(
        "DROP TRIGGER trg_task_usage_delete_dirty_hourly ON task_usage;\n")
    return target


def test_weakened_trigger_fails_the_run_listing_bad_keys_and_their_operations(tmp_path):
    scenario = tmp_path / "small.toml"
    scenario.write_text(SMALL)
    target = weakened_copy(tmp_path)
    out = tmp_path / "verdict.json"
    result = cli.invoke(app, ["run", str(scenario), "--target", str(target), "--report-dir", str(tmp_path / "r"),
                              "--json", str(out)])
    assert result.exit_code == 1, result.output
    v = json.loads(out.read_text())
    assert not v["ok"] and v["drift"]["extra"] + v["drift"]["mismatched"] > 0
    failed = {c["name"] for c in v["checks"] if not c["ok"]}
    assert "hour-grain drift" in failed
    assert all(any(o["f"] == "delete_usage" for o in b["ops"]) for b in v["bad_keys"])
    assert "delete_usage" in result.output and "rollup-bench replay" in result.output
    for key in ("scenario", "target", "seed", "server_version", "history_sha256", "operations", "ticks", "checks",
                "drift", "zones"):
        assert key in v
    assert {z["name"] for z in v["zones"]} == {"UTC", "Asia/Kolkata"}
    # Judged again offline, from the history and the snapshots beside it: the same verdict.
    again = cli.invoke(app, ["check", v["history"], "--json", str(tmp_path / "again.json")])
    assert again.exit_code == 1, again.output
    w = json.loads((tmp_path / "again.json").read_text())
    for key in ("checks", "ok", "signature", "drift", "drift_by_check", "bad_keys", "zones", "failures"):
        assert w[key] == v[key], key


@pytest.mark.parametrize("text, message", [
    ("[scenario]\nname = \"x\"\nspeed = 3\n", ":3: scenario.speed: unknown key"),
    ("[scenario]\nname = \"x\"\n[zones]\nview = [\"Mars/Olympus\"]\n", ":4: zones.view"),
    ("[scenario\n", ": syntax"),
])
def test_bad_scenarios_exit_2_with_one_line(tmp_path, text, message):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    result = cli.invoke(app, ["run", str(f)])
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) == 1, result.output


def test_unreachable_server_and_bad_target_exit_2(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text(SMALL)
    result = cli.invoke(app, ["run", str(f), "--pg", "dsn", "--dsn", f"postgresql://x@/db?host={tmp_path}"])
    assert result.exit_code == 2 and "[dsn] cannot connect" in result.output
    assert len(result.output.strip().splitlines()) == 1
    result = cli.invoke(app, ["run", str(f), "--target", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "is not a directory" in result.output


@pytest.mark.parametrize("name", ["steady", "chaos"])  # chaos: the fault schedule's late transactions too
def test_generator_does_not_depend_on_hash_randomisation(name):
    """Set iteration order changes with PYTHONHASHSEED; the stream must not."""
    code = ("import hashlib, sys; from bench.workload.generator import generate; from bench.workload.scenario import load;"
            f"ops = generate(load('scenarios/{name}.toml'));"
            "print(hashlib.sha256(repr([(o.name, o.at, o.session, o.value) for o in ops]).encode()).hexdigest())")
    root = Path(__file__).resolve().parent.parent
    digests = {subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(digests) == 1
