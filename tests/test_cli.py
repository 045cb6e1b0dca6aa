"""One CLI layer: every command maps what can go wrong to the same exit codes — bad input or environment 2, a
failed migration 1 — on one line, never with a traceback; and a server that dies mid-run is the environment's
failure, with the history written so far named and replayable."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.orchestrate.errors import ServerLost
from bench.orchestrate.execute import SCENARIOS, reachable, run_scenario
from bench.cli.main import app
from bench.drive.history import History, HistoryWriter
from rollup.migrations import MIGRATIONS_ROOT
from rollup.servers import start_server
from tests.helpers import request

cli = CliRunner()
SCENARIO = str(SCENARIOS / "peer" / "idempotent.toml")
SPEC = str(SCENARIOS / "capacity" / "gate.toml")


def one_line_error(result, code: int = 2) -> str:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, Exception) or \
        isinstance(result.exception, SystemExit), result.exception
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.output  # what a command printed before it (migrate's progress) may precede it
    return errors[0]


@pytest.fixture
def bad(tmp_path: Path) -> dict[str, str]:
    scenario = tmp_path / "bad.toml"
    scenario.write_text("[scenario\n")
    history = tmp_path / "bad.history.jsonl"
    history.write_text('{"t": "header", "format": 99}\n')
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "999_broken.up.sql").write_text("SELECT no_such_column FROM no_such_table;\n")
    good = tmp_path / "good.history.jsonl"  # a valid history, so that replay gets as far as its target and server
    HistoryWriter(good, {"scenario": "idempotent", "digest": "", "seed": 1, "toml": Path(SCENARIO).read_text()}).close()
    return {"scenario": str(scenario), "history": str(history), "nowhere": str(tmp_path / "nowhere"),
            "broken": f"{MIGRATIONS_ROOT / 'reference'},{broken}", "good_history": str(good),
            "json": str(tmp_path / "x.json"), "dir": str(tmp_path / "out")}


# command -> its arguments with a placeholder for each class of bad input
COMMANDS = {
    "migrate": ["migrate", "--target", "{target}", "--pg", "{pg}"],
    "run": ["run", "{scenario}", "--target", "{target}", "--pg", "{pg}", "--report-dir", "{dir}"],
    "replay": ["replay", "{history}", "--target", "{target}", "--pg", "{pg}", "--report-dir", "{dir}"],
    "repro": ["repro", "{repro}", "--target", "{target}", "--pg", "{pg}", "--report-dir", "{dir}"],
    "gate": ["gate", "--target", "{target}", "--pg", "{pg}", "--report-dir", "{dir}"],
    "diff": ["diff", "{scenario}", "--a", "{target}", "--b", "reference", "--pg", "{pg}", "--report-dir", "{dir}"],
    "capacity": ["capacity", "{spec}", "--target", "{target}", "--pg", "{pg}", "--report-dir", "{dir}"],
}
GOOD = {"scenario": SCENARIO, "target": "reference", "pg": "embedded", "repro": "B1", "spec": SPEC}


def args(command: str, bad: dict, **wrong) -> list[str]:
    values = {**GOOD, "history": bad["good_history"], "dir": bad["dir"], **wrong}
    return [a.format(**values) for a in COMMANDS[command]]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_bad_target_exits_2(command, bad):
    assert "is not a directory" in one_line_error(cli.invoke(app, args(command, bad, target=bad["nowhere"])))


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_unknown_server_exits_2(command, bad):
    assert "nosuch" in one_line_error(cli.invoke(app, args(command, bad, pg="nosuch")))


@pytest.mark.parametrize("command, wrong, message", [
    ("run", {"scenario": "{bad_scenario}"}, "syntax"),
    ("diff", {"scenario": "{bad_scenario}"}, "syntax"),
    ("capacity", {"spec": "{bad_scenario}"}, "syntax"),
    ("replay", {"history": "{bad_history}"}, "not a rollup-bench history"),
    ("replay", {"history": "{nowhere}"}, "cannot replay"),
    ("repro", {"repro": "B99"}, "no reproduction 'B99'"),
])
def test_bad_files_exit_2(command, wrong, message, bad):
    wrong = {k: v.format(bad_scenario=bad["scenario"], bad_history=bad["history"], nowhere=bad["nowhere"])
             for k, v in wrong.items()}
    if command == "replay":
        wrong.setdefault("history", bad["good_history"])
    assert message in one_line_error(cli.invoke(app, args(command, bad, **wrong)))


def test_check_without_snapshots_exits_2(bad):
    line = one_line_error(cli.invoke(app, ["check", bad["good_history"]]))
    assert "no snapshots beside it" in line
    assert "not a rollup-bench history" in one_line_error(cli.invoke(app, ["check", bad["history"]]))


def test_capacity_diff_bad_files_exit_2(bad):
    assert "not a capacity result" in one_line_error(cli.invoke(app, ["capacity-diff", bad["scenario"], bad["scenario"]]))


@pytest.mark.parametrize("command", ["migrate", "run", "repro", "gate", "diff"])
def test_a_failed_migration_exits_1(command, bad):
    line = one_line_error(cli.invoke(app, args(command, bad, target=bad["broken"])), code=1)
    assert line.startswith("error: migration failed") and "999_broken" in line


def test_a_server_that_dies_mid_run_exits_2_and_leaves_a_replayable_history(tmp_path):
    report = tmp_path / "r"
    with start_server("embedded") as server:
        def kill(at, run):  # an immediate shutdown (SIGQUIT to the postmaster), as a crash leaves it
            if run.ticks == 3 and reachable(server):
                pid = int((server.data_dir / "postmaster.pid").read_text().split()[0])
                os.kill(pid, signal.SIGQUIT)
                while reachable(server):
                    time.sleep(0.05)

        with pytest.raises(ServerLost, match="the server went away mid-run") as info:
            run_scenario(server, request(Path(SCENARIO), "reference", report), on_progress=kill)
    history = Path(str(info.value).rsplit(": ", 1)[1])
    assert history.exists() and str(history) in str(info.value)
    ops = History.load(history).ops
    assert ops.height and ops.filter(ops["f"] == "tick").height >= 3
    replay = cli.invoke(app, ["replay", str(history), "--report-dir", str(tmp_path / "again"), "--json",
                              str(tmp_path / "v.json")])
    assert replay.exit_code in (0, 1), replay.output  # judged: it ran to the last completed operation
    assert "Traceback" not in replay.output and json.loads((tmp_path / "v.json").read_text())["ticks"]["count"] >= 3


def test_a_lost_server_maps_to_exit_2_on_one_line():
    import typer

    from bench.cli.errors import guarded

    with pytest.raises(typer.Exit) as info:
        with guarded():
            raise ServerLost("the server went away mid-run (x); the history so far: h.jsonl")
    assert info.value.exit_code == 2
