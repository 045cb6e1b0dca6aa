"""Every reproduction shows its documented signature on the reference and converges on the hardened target;
every peer case converges on both. (The same runs as `rollup-bench gate`, without its generated runs.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.orchestrate.execute import SCENARIOS, ops_for, rejudge
from bench.cli.main import app
from bench.drive.runner import RunHooks, RunSpec, run
from bench.judge import attribution
from bench.judge.checker import for_run
from bench.judge.verdict import evaluate
from bench.workload.scenario import ScenarioError, load, loads
from rollup.migrations import Target

REPROS = sorted(p.stem for p in (SCENARIOS / "repro").glob("*.toml"))
PEERS = sorted(p.stem for p in (SCENARIOS / "peer").glob("*.toml"))
cli = CliRunner()


def observe(server, folder: str, name: str, target: str, tmp_path: Path, attributed: list | None = None) -> set[str]:
    """The divergences a scripted case shows on a target; `attributed` receives the catalogue ids its bad keys
    were attributed to."""
    path = SCENARIOS / folder / f"{name}.toml"
    sc = load(path)
    tgt = Target.resolve(target)
    result = run(server, RunSpec(sc, path.read_text(), tgt, tmp_path / "h.jsonl"), ops_for(sc), RunHooks(judge=for_run(sc, tgt.reads.exact)))
    assert result.checks and result.checks[-1].apply_errors == 0  # the script was applied as written
    verdict = evaluate(result)
    judged = {c["name"]: c for c in verdict["checks"]}
    for check in ("operations succeeded", "something was tested", "report queries answered"):
        assert judged[check]["ok"], judged[check]
    again = evaluate(rejudge(tmp_path / "h.jsonl"))  # offline, from the history and its snapshots alone
    for key in ("checks", "ok", "signature", "drift", "drift_by_check", "bad_keys", "zones", "failures",
                "attribution"):
        assert again[key] == verdict[key], key
    if attributed is not None:
        attributed += list(verdict["attribution"]["by_id"]) + list(verdict["attribution"]["state"])
    return set().union(*(c.signature for c in result.checks))


def test_every_catalogue_id_has_a_reproduction():
    assert REPROS == sorted(["L1"] + [f"B{n}" for n in range(1, 14)])
    for name in REPROS:
        sc = load(SCENARIOS / "repro" / f"{name}.toml")
        assert sc.repro.id == name and sc.repro.signature
        assert sc.expectation("reference").reproduced is True
        assert sc.expectation("hardened").reproduced is False and sc.expectation("mine").reproduced is False


@pytest.mark.parametrize("name", REPROS)
def test_reproduction_shows_its_signature_on_reference(server, tmp_path, name):
    signature = set(load(SCENARIOS / "repro" / f"{name}.toml").repro.signature)
    attributed: list[str] = []
    observed = observe(server, "repro", name, "reference", tmp_path, attributed)
    assert signature <= observed, observed
    if name in attribution.IDS + ("B8",):  # the mechanism the catalogue names is the one attribution finds
        assert name in attributed, attributed


@pytest.mark.parametrize("name", REPROS)
def test_reproduction_converges_on_hardened(server, tmp_path, name):
    assert observe(server, "repro", name, "hardened", tmp_path) == set()


@pytest.mark.parametrize("target", ["reference", "hardened"])
@pytest.mark.parametrize("name", PEERS)
def test_peer_case_converges(server, tmp_path, name, target):
    assert observe(server, "peer", name, target, tmp_path) == set()


def test_repro_command_prints_the_sequence_and_exit_codes(tmp_path):
    result = cli.invoke(app, ["repro", "B12", "--report-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "change_agent" in result.output and "hour:extra" in result.output and "extra" in result.output
    result = cli.invoke(app, ["repro", "B99", "--report-dir", str(tmp_path)])
    assert result.exit_code == 2 and "no reproduction 'B99'" in result.output


def test_diff_command_reports_where_two_targets_differ(tmp_path):
    result = cli.invoke(app, ["diff", str(SCENARIOS / "repro" / "B1.toml"), "--every", "1",
                              "--report-dir", str(tmp_path), "--json", str(tmp_path / "d.json")])
    assert result.exit_code == 1, result.output
    assert "keys differing" in result.output and '"divergences"' in (tmp_path / "d.json").read_text()



def test_diff_runs_a_script_that_restarts_the_server(tmp_path):
    """Both targets share one server: it restarts once per `restart`, and both runs reconnect."""
    result = cli.invoke(app, ["diff", str(SCENARIOS / "peer" / "restart.toml"), "--a", "reference", "--b", "hardened",
                              "--report-dir", str(tmp_path), "--json", str(tmp_path / "d.json")])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "d.json").read_text())["compared"] >= 1


@pytest.mark.parametrize("text, message", [
    ('[[step]]\ndo = "explode"\n', "is not a step"),
    ('[[step]]\ndo = "usage"\n', "needs task"),
    ('[[step]]\ndo = "tick"\nat = "2h"\n[[step]]\ndo = "tick"\nat = "1h"\n', "goes back in time"),
    ('[[step]]\ndo = "lock"\nsession = "L"\ntarget = "moon"\n', "is not one of rollup"),
    ('[[step]]\ndo = "commit"\n', "needs a session name"),
    ('[[step]]\ndo = "tick"\nspeed = 3\n', r"unknown key for step 1 \(tick\)"),
])
def test_bad_steps_are_refused(text, message):
    with pytest.raises(ScenarioError, match=message):
        loads('[scenario]\nname = "x"\n' + text)


def test_step_errors_name_the_step_and_its_line():
    text = '[scenario]\nname = "x"\n\n[[step]]\ndo = "tick"\n\n[[step]]\ndo = "tick"\nat = "1h"\nspeed = 2\n'
    with pytest.raises(ScenarioError) as info:
        loads(text, source="s.toml")
    assert str(info.value).startswith("s.toml:10: step[2].speed: unknown key for step 2 (tick)")
