"""An accepted-divergence baseline (bench/judge/baseline.py): a reproduction of each catalogue id passes with that
id accepted and fails without it; one more, unaccepted divergence in the same run fails naming its key; an
accepted id no run shows is fixed; and the gate's --write-baseline, accept and the baseline file work together."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.orchestrate.execute import SCENARIOS, ops_for
from bench.cli.main import app
from bench.drive.runner import RunHooks, RunSpec, run
from bench.judge import baseline
from bench.judge.checker import for_run
from bench.judge.record import Verdict
from bench.judge.verdict import evaluate
from bench.workload.scenario import load, loads
from rollup.migrations import MIGRATIONS_ROOT, Target

REPROS = sorted(p.stem for p in (SCENARIOS / "repro").glob("*.toml"))
cli = CliRunner()


def _run(server, text: str, tmp_path: Path, target: str = "reference"):
    sc = loads(text)
    tgt = Target.resolve(target)
    return run(server, RunSpec(sc, text, tgt, tmp_path / "h.jsonl"), ops_for(sc), RunHooks(judge=for_run(sc, tgt.reads.exact)))


def _named(v: dict, check: str) -> dict:
    return next(c for c in v["checks"] if c["name"] == check)


# Scripts whose key another mechanism explains as well: B3's writer also commits more than 5 minutes after it
# began (B4); B9's backfill also drains its window's queue at its waitpoint (B3).
ALSO = {"B3": ("B4",), "B9": ("B3",)}


@pytest.mark.one_server
@pytest.mark.parametrize("name", REPROS)
def test_a_reproduction_is_known_with_its_id_accepted_and_new_without(server, tmp_path, name):
    result = _run(server, (SCENARIOS / "repro" / f"{name}.toml").read_text(), tmp_path)
    known = evaluate(result, (name,))
    assert known["ok"], [c for c in known["checks"] if not c["ok"]]
    assert known["baseline"]["status"] == "known" and name in known["baseline"]["shown"]
    for accept in ((), tuple(x for x in baseline.EVERY if x not in (name, *ALSO.get(name, ())))):
        new = evaluate(result, accept)  # nothing, or everything else, accepted: only its own id explains it
        assert not new["ok"] and new["baseline"]["status"] == "new", accept
        assert "new:" in _named(new, "divergence within the baseline")["observed"]
    assert evaluate(result)["ok"]  # and without a baseline, its own expectation (reproduced) as before


INJECTED = '''
[[step]]
do = "task"
at = "12m"
name = "t2"
agent = "B.a1"
issue = "B.i1"

[[step]]
do = "usage"
at = "13m"
task = "t2"
input = 7

'''
CHANGE = '''
[[step]]
do = "change_agent"
at = "2h2m"
task = "t2"
agent = "B.a2"
'''


@pytest.mark.one_server
def test_one_more_unaccepted_divergence_fails_naming_its_key(server, tmp_path):
    """B1's run with a B12 (a task's agent changed) injected: B1 accepted is not enough, and the verdict names
    the injected key, the agent it was rolled up under, and the id that explains it."""
    text = (SCENARIOS / "repro" / "B1.toml").read_text()
    for before, steps in (('[[step]]\ndo = "tick"\n', INJECTED), ('[[step]]\ndo = "ticks"', CHANGE)):
        at = text.index(before)
        text = text[:at] + steps.lstrip() + "\n" + text[at:]
    text = text.replace("[repro]", "[operations]\nbreakers = true\n\n[repro]")
    result = _run(server, text, tmp_path)
    v = evaluate(result, ("B1",))
    assert not v["ok"] and v["baseline"]["known"] == ["B1"] and v["baseline"]["shown"] == ["B1", "B12"]
    observed = _named(v, "divergence within the baseline")["observed"]
    uid = next(op for op in result.script if op.name == "change_agent").value
    old_agent = next(op.value["agent_id"] for op in result.script if op.name == "task" and op.value["id"] == uid["id"])
    injected = {old_agent[:8], uid["agent_id"][:8]}  # the key it left stale, or the one it left missing
    assert any(f"agent {a}" in observed for a in injected) and "explained by B12, not accepted" in observed, observed
    assert {p["what"].split(" agent ")[1][:8] for p in v["baseline"]["new"]} == injected
    assert evaluate(result, ("B1", "B12"))["ok"]


def test_settle_marks_fixed_ids_and_strict_fails_them():
    runs = [Verdict("B1", repro={"id": "B1"}, ok=True, baseline=baseline.judge([], ("B1", "B2"))),
            Verdict("B2", repro={"id": "B2"}, ok=True,
                    baseline=baseline.judge([{"what": "k", "ids": ["B2"]}], ("B1", "B2")))]
    assert baseline.settle(runs, ("B1", "B2")) == ["B1"]
    assert runs[0].ok and baseline.label(runs[0]) == "fixed B1" and baseline.label(runs[1]) == "known B2"
    strict = [Verdict("B1", repro={"id": "B1"}, ok=True, baseline=baseline.judge([], ("B1",)))]
    assert baseline.settle(strict, ("B1",), strict=True) == ["B1"] and not strict[0].ok


def test_an_id_no_run_of_the_batch_could_show_is_never_fixed():
    # a subset of the gate: B2's reproduction and a generated run, B1 and B10 accepted; neither shown, but only
    # B2's absence is news (its reproduction ran); of B1 and B10, this batch says nothing
    runs = [Verdict("B2", repro={"id": "B2"}, ok=True, baseline=baseline.judge([], ("B1", "B2", "B10"))),
            Verdict("gate-steady", ok=True, baseline=baseline.judge([], ("B1", "B2", "B10")))]
    assert baseline.settle(runs, ("B1", "B2", "B10")) == ["B2"]
    assert baseline.label(runs[1]) == "clean"


def test_a_piece_is_known_when_any_accepted_id_explains_it():
    found = [{"what": "a", "ids": ["B3", "B4"]}, {"what": "b", "ids": []}]
    assert baseline.judge(found, ("B4",))["new"] == [{"what": "b", "ids": []}]
    assert baseline.judge(found[:1], ("B4",))["status"] == "known"


def test_parse_ids():
    assert baseline.parse_ids(["b10, B1", "L1"]) == ("B1", "B10", "L1")
    assert baseline.parse_ids(["none"]) == ()
    with pytest.raises(ValueError, match="'B99' is not a catalogue id"):
        baseline.parse_ids(["B1,B99"])


def _project(tmp_path: Path, names: list[str]) -> Path:
    """A scratch project whose chain is a copy of migrations/reference and whose gate runs a few reproductions."""
    (tmp_path / "cases").mkdir()
    for n in names:
        shutil.copy(SCENARIOS / "repro" / f"{n}.toml", tmp_path / "cases")
    shutil.copytree(MIGRATIONS_ROOT / "reference", tmp_path / "chain")
    (tmp_path / "rollup-bench.toml").write_text('migrations = ["chain"]\nscenarios = ["cases/*.toml"]\n'
                                                'baseline = "baseline.toml"\njobs = 1\n')
    return tmp_path


def test_gate_writes_a_baseline_then_passes_fails_on_a_removed_id_and_reports_a_fix(tmp_path, monkeypatch):
    proj = _project(tmp_path, ["B1", "B10", "B12"])
    monkeypatch.chdir(proj)
    gate = ["gate", "--report-dir", "r", "--json", "g.json", "--junit", "j.xml", "--summary", "s.md"]
    assert not (proj / "baseline.toml").exists()  # configured first, as docs/ci.md's four steps say, then written
    result = cli.invoke(app, [*gate, "--write-baseline", "baseline.toml"])
    assert result.exit_code == 0, result.output
    assert baseline.parse_ids(load_accept(proj / "baseline.toml")) == ("B1", "B10", "B12")
    written = (proj / "baseline.toml").read_text()
    assert "showed on chain," in written and str(proj) not in written  # committed: no machine's paths
    result = cli.invoke(app, gate)
    assert result.exit_code == 0, result.output
    runs = json.loads((proj / "g.json").read_text())["runs"]
    assert {r["scenario"]: baseline.label(Verdict.from_json(r)) for r in runs} == {"B1": "known B1", "B10": "known B10",
                                                                "B12": "known B12"}
    assert 'name="baseline" value="known B12"' in (proj / "j.xml").read_text()
    assert "pass (known B12)" in (proj / "s.md").read_text()

    (proj / "baseline.toml").write_text('accept = ["B1", "B10"]\n')  # B12 removed: exactly its run fails, as new
    result = cli.invoke(app, gate)
    assert result.exit_code == 1, result.output
    runs = {r["scenario"]: r for r in json.loads((proj / "g.json").read_text())["runs"]}
    assert [n for n, r in runs.items() if not r["ok"]] == ["B12"] and runs["B12"]["baseline"]["status"] == "new"
    assert "NEW B12: extra key" in " ".join(result.output.split())

    (proj / "baseline.toml").write_text('accept = ["B1", "B10", "B12"]\n')  # and hardened's fix for it lands
    shutil.copy(MIGRATIONS_ROOT / "hardened" / "105_atq_dirty_trigger_agent_id.up.sql", proj / "chain")
    result = cli.invoke(app, gate)
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "FIXED B12: no run shows it any more — remove it from accept" in out
    runs = {r["scenario"]: r for r in json.loads((proj / "g.json").read_text())["runs"]}
    assert baseline.label(Verdict.from_json(runs["B12"])) == "fixed B12" and json.loads((proj / "g.json").read_text())["baseline"][
        "fixed"] == ["B12"]
    assert cli.invoke(app, [*gate, "--strict-accept"]).exit_code == 1
    assert cli.invoke(app, [*gate, "--accept", "B1,B10"]).exit_code == 0  # the command line wins over the file


def load_accept(path: Path) -> list[str]:
    import tomllib

    return tomllib.loads(path.read_text())["accept"]


@pytest.mark.parametrize("config, message", [
    ('accept = ["B99"]\n', "rollup-bench.toml:1: accept: 'B99' is not a catalogue id"),
    ('baseline = "missing.toml"\n', "rollup-bench.toml:1: baseline: missing.toml: cannot read it as a baseline"),
    ('accept = "B1"\n', "rollup-bench.toml:1: accept:"),
])
def test_bad_accept_is_one_line_naming_the_file(tmp_path, monkeypatch, config, message):
    (tmp_path / "rollup-bench.toml").write_text(config)
    monkeypatch.chdir(tmp_path)
    result = cli.invoke(app, ["gate"])
    assert result.exit_code == 2 and message in result.output, result.output


def test_bad_accept_option(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli.invoke(app, ["gate", "--accept", "B1,X"])
    assert result.exit_code == 2 and "--accept: 'X' is not a catalogue id" in result.output, result.output


def test_every_catalogue_id_is_a_reproduction():
    assert sorted(baseline.EVERY) == REPROS and all(load(SCENARIOS / "repro" / f"{x}.toml").repro.id == x
                                                    for x in baseline.EVERY)


def test_shards_merged_settle_what_is_fixed_as_the_whole_gate(tmp_path, monkeypatch):
    """No shard knows that no run of the gate shows an id: merge decides it, as the unsharded gate does."""
    proj = _project(tmp_path, ["B1", "B12"])
    shutil.copy(MIGRATIONS_ROOT / "hardened" / "105_atq_dirty_trigger_agent_id.up.sql", proj / "chain")
    (proj / "baseline.toml").write_text('accept = ["B1", "B12"]\n')
    monkeypatch.chdir(proj)
    for k in (1, 2):
        result = cli.invoke(app, ["gate", "--report-dir", "r", "--shard", f"{k}/2", "--json", f"s{k}.json"])
        assert result.exit_code == 0, result.output
        assert json.loads((proj / f"s{k}.json").read_text())["baseline"]["fixed"] == []
    result = cli.invoke(app, ["merge", "s1.json", "s2.json", "--json", "m.json"])
    assert result.exit_code == 0, result.output
    merged = json.loads((proj / "m.json").read_text())
    assert merged["baseline"]["fixed"] == ["B12"]
    assert [baseline.label(Verdict.from_json(v)) for v in merged["runs"]] == ["known B1", "fixed B12"]


def test_a_mismatched_key_names_the_measures_that_differ():
    # what the terminal's NEW line says of a key: a wrong uncosted column in the window is named, with its delta
    values = {"bucket_hour": 1_772_445_600_000_000, "workspace_id": "w", "runtime_id": "r",
              "agent_id": "5279144c-0000", "project_id": None, "provider": "openai", "model": "gpt-5"}
    key = tuple(values[k] for k in baseline.KEY)
    said = baseline._describe_key(key, "mismatched", {"uncosted_input_tokens": -1200, "cost_usd_ticks": "0.5"})
    assert said.endswith("openai/gpt-5 (uncosted_input_tokens -1,200, cost_usd_ticks 0.5)"), said
    assert "(" not in baseline._describe_key(key, "missing", {"input_tokens": 5}), "a missing key has no deltas"
