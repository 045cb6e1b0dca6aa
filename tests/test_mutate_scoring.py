"""Mutation scoring's bookkeeping (bench/orchestrate/mutate.py) with the batch's verdicts given: the base's failed
runs cannot kill, a mutant stops at its first kill, stillborn and equivalent mutants are not counted, and the
equivalents file is read strictly. The real runs are in test_mutate_cli.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.orchestrate.mutate import (
    EQUIVALENT,
    KILLED,
    STILLBORN,
    SURVIVED,
    MutateError,
    Run,
    Scoring,
    mutants_of,
    parse_equivalents,
    selected,
)
from rollup.migrations import Target
from rollup.mutation.reach import superseded

PEER = Path(__file__).resolve().parent.parent / "scenarios" / "peer"
RUNS = [Run(PEER / "usage_delete.toml"), Run(PEER / "restart.toml"), Run(PEER / "runtime_reassign.toml")]


def scoring(tmp_path: Path, verdicts, equivalents=None, n: int = 4) -> tuple[Scoring, list[tuple[str, str]]]:
    """A Scoring of the first `n` mutants of 111 whose batch answers `verdicts(run label, mutant dir or 'base')`;
    every request is logged."""
    target = Target.resolve("hardened")
    found, texts, _ = mutants_of(target, ["111"])
    asked: list[tuple[str, str]] = []

    def batch(requests):
        out = []
        for r in requests:
            who = "base" if r.report_dir.name == "base" else r.report_dir.name
            asked.append((r.run.label, who))
            out.append(verdicts(r.run.label, who))
        return out

    return Scoring(target, found[:n], texts, RUNS, tmp_path, batch, equivalents or {}), asked


def ok(good: bool) -> dict:
    return {"ok": good, "checks": [{"name": "hour-grain drift", "ok": good, "observed": "3 bad key(s)"}]}


def test_kills_stop_at_the_first_and_only_runs_the_base_passes_count(tmp_path):
    names = []

    def verdicts(run, who):
        if who == "base":
            return ok(run != "restart")  # the base fails restart: it cannot kill
        if who not in names:
            names.append(who)
        i = names.index(who)
        if i == 0:
            return {"error": "migration failed: 111: syntax", "code": 1}
        if i == 1:
            return ok(run != "usage_delete")  # killed at the first run
        if i == 2:
            return ok(run == "usage_delete")  # killed at the second usable one
        if i == 4 and run == "runtime_reassign":
            return {"error": "Traceback (most recent call last):\n  ...\nTypeError: 'NoneType'", "code": 2}
        return ok(True)

    s, asked = scoring(tmp_path, verdicts, n=5)
    result = s.score()
    statuses = [m["status"] for m in result["mutants"]]
    assert statuses == [STILLBORN, KILLED, KILLED, SURVIVED, KILLED]
    assert result["base_failed"] == ["restart"]
    assert [a for a in asked if a[0] == "restart" and a[1] != "base"] == []  # never run on a mutant
    assert len([a for a in asked if a[1] == names[1]]) == 1  # stopped at its kill
    assert result["total"]["score"] == 0.75
    assert result["mutants"][4]["detail"].startswith("the run crashed: TypeError")
    survivor = result["mutants"][3]
    assert survivor["passed"] == ["usage_delete", "runtime_reassign"] and survivor["diff"].startswith("--- a/111")
    assert result["mutants"][1]["killed_by"] == "usage_delete"
    assert "hour-grain drift" in result["mutants"][1]["detail"]
    assert sum(t["mutants"] for t in result["by_operator"].values()) == 5


def test_equivalents_are_not_run_and_not_counted(tmp_path):
    probe, _ = scoring(tmp_path, lambda run, who: ok(True))
    eq = probe.mutants[3].id
    s, asked = scoring(tmp_path, lambda run, who: ok(who == "base"), {eq: "same result", "999:1:1:cmp": "gone"})
    result = s.score()
    assert [m["status"] for m in result["mutants"]] == [KILLED, KILLED, KILLED, EQUIVALENT]
    assert result["total"]["score"] == 1.0 and result["total"]["equivalent"] == 1
    assert result["equivalents_unknown"] == ["999:1:1:cmp"]
    assert all(who != eq.replace(":", "-") for _, who in asked)


def test_a_base_that_fails_everything_is_refused(tmp_path):
    s, _ = scoring(tmp_path, lambda run, who: ok(False))
    with pytest.raises(MutateError, match="fails every run"):
        s.score()


def test_equivalents_file_is_read_strictly(tmp_path):
    good = tmp_path / "eq.toml"
    good.write_text('[[equivalent]]\nid = "114:7:1:drop-statement"\nreason = "jit is a plan choice"\n')
    assert parse_equivalents(good) == {"114:7:1:drop-statement": "jit is a plan choice"}
    for text, says in [('[[equivalent]]\nid = "x"\n', "exactly id and reason"),
                       ('[[equivalent]]\nid = "x"\nreason = " "\n', "reason is empty"),
                       ('accept = []\n', "unknown key"), ("[[equivalent]\n", "not valid TOML")]:
        good.write_text(text)
        with pytest.raises(MutateError, match=says):
            parse_equivalents(good)


def test_file_selection():
    assert selected("110_window.up.sql", ["105-114"]) and selected("110_window.up.sql", ["110"])
    assert selected("110_window.up.sql", ["11*"]) and not selected("104_drop.up.sql", ["105-114", "11*"])


def test_shards_merge_into_the_whole_run(tmp_path):
    import json

    from typer.testing import CliRunner

    from bench.cli.main import app
    from bench.orchestrate.mutate import merge

    whole, _ = scoring(tmp_path / "w", lambda run, who: ok(who == "base" or who.endswith("cmp")), n=5)
    parts = []
    for k in (1, 2):
        s, _ = scoring(tmp_path / str(k), lambda run, who: ok(who == "base" or who.endswith("cmp")), n=5)
        s.mutants = s.mutants[k - 1::2]
        parts.append({**s.score(), "shard": {"k": k, "n": 2}})
    merged = merge(parts)
    full = whole.score()
    assert merged["total"] == full["total"] and merged["by_operator"] == full["by_operator"]
    assert sorted(m["id"] for m in merged["mutants"]) == sorted(m["id"] for m in full["mutants"])
    with pytest.raises(MutateError, match="shards 1…N"):
        merge(parts[:1])
    files = []
    for n, part in enumerate(parts):
        files.append(tmp_path / f"s{n}.json")
        files[-1].write_text(json.dumps(part))
    result = CliRunner().invoke(app, ["mutate-merge", *map(str, files), "--min-score", "1"])
    assert full["total"]["score"] == 0.8 and result.exit_code == 1, result.output  # the cmp mutant survives
    assert "below --min-score 100.0%" in result.output
    assert CliRunner().invoke(app, ["mutate-merge", str(files[0])]).exit_code == 2


def test_an_edit_no_run_reaches_is_set_aside_after_the_first_run_and_a_kill_there_is_a_contradiction(tmp_path):
    # 102's two-argument window function is dropped by hardened's 110 and nothing runs it in between: its mutants
    # pass the first run (as they must), then are unreached — not run again, not counted. One of them killed
    # instead would prove the analysis wrong: the result names it.
    target = Target.resolve("hardened")
    found, texts, _ = mutants_of(target, ["102"])
    window = texts["102_task_usage_hourly_pipeline.up.sql"].index("CREATE FUNCTION rollup_task_usage_hourly_window")
    inside = [m for m in found if m.start > window][:2]
    spans = superseded([(m.up.name, m.up.read_text()) for m in target.migrations()])[inside[0].file]
    outside = [m for m in found if not any(x.start <= m.start < x.end for x in spans)][:1]
    asked: list[tuple[str, str]] = []

    def batch(requests):
        out = []
        for r in requests:
            asked.append((r.run.label, r.report_dir.name))
            out.append(ok(r.report_dir.name != inside[1].id.replace(":", "-").replace(".", "_")))
        return out

    mutants = inside + outside
    result = Scoring(target, mutants, texts, RUNS, tmp_path, batch).score()
    status = {m["id"]: m for m in result["mutants"]}
    assert status[inside[0].id]["status"] == "unreached", status[inside[0].id]
    why = status[inside[0].id]["detail"]
    assert "rollup_task_usage_hourly_window(timestamptz, timestamptz) is dropped by 110" in why, why
    assert status[outside[0].id]["status"] == SURVIVED
    assert result["total"]["unreached"] == 1 and result["total"]["score"] == 0.5  # 1 killed of 2 judged
    assert result["reach_contradicted"] == [inside[1].id]
    ran = {who for _, who in asked}
    assert len([a for a in asked if a[1] == inside[0].id.replace(":", "-").replace(".", "_")]) == 1
    assert outside[0].id.replace(":", "-").replace(".", "_") in ran


def test_a_stopped_run_resumes_from_its_progress_without_running_a_finished_round_again(tmp_path):
    def verdicts(run, who):  # the first two mutants die in the last run; the others survive
        return ok(who == "base" or not (run == "runtime_reassign" and who in first))

    probe, _ = scoring(tmp_path / "probe", lambda run, who: ok(True))
    first = {m.id.replace(":", "-").replace(".", "_") for m in probe.mutants[:2]}
    stopped, asked = scoring(tmp_path, verdicts)
    real = stopped.run_batch

    def stop_at_second_round(requests):
        if requests[0].report_dir.name != "base" and requests[0].run.label == "restart":
            raise KeyboardInterrupt
        return real(requests)

    stopped.run_batch = stop_at_second_round
    with pytest.raises(KeyboardInterrupt):
        stopped.score()
    again, asked_again = scoring(tmp_path, verdicts)
    again.resume = True
    result = again.score()
    assert [a for a in asked_again if a[1] != "base" and a[0] == "usage_delete"] == []  # round 1 not run again
    status = {m["id"]: m for m in result["mutants"]}
    assert [status[m.id]["status"] for m in again.mutants] == [KILLED, KILLED, SURVIVED, SURVIVED]
    assert status[again.mutants[2].id]["passed"] == ["usage_delete", "restart", "runtime_reassign"]
    assert status[again.mutants[0].id]["killed_by"] == "runtime_reassign"
    other, _ = scoring(tmp_path, verdicts, n=3)
    other.resume = True
    with pytest.raises(MutateError, match="another selection"):
        other.score()
