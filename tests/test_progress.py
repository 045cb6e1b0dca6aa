"""What a long command prints in a log (bench/orchestrate/progress.py): with stdout not a terminal, a plain line
at least every 15 s — what runs, the simulated time reached, runs done of total — and on GitHub Actions an
`::error` annotation per new divergence and the summary in $GITHUB_STEP_SUMMARY. No timing is judged: the
clock is injected, or a line is printed per progress event (ROLLUP_BENCH_PROGRESS_EVERY=0)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.orchestrate.progress import Lines
from rollup.clock import to_us
from rollup.migrations import Target
from tests.test_cluster import TARGETS, TINY

ROOT = Path(__file__).resolve().parent.parent
BENCH = [sys.executable, "-m", "bench.cli.main"]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_line_at_most_every_interval_and_a_heartbeat_between_events():
    out, clock = io.StringIO(), Clock()
    lines = Lines(out, every=15, clock=clock)
    lines.started("gate on reference", 3)  # always a first line
    at = to_us(datetime(2026, 3, 2, 10, tzinfo=UTC))
    clock.now += 5
    lines.moved(at, "", "gate-steady seed 1 on embedded")  # 5 s after the last line: none
    clock.now += 11
    lines.moved(at, "", "gate-steady seed 1 on embedded")  # 16 s: one
    clock.now += 2
    lines.finished("B1 on embedded", False)  # 2 s: none
    clock.now += 15
    assert lines.line()  # nothing happened for 15 s: the heartbeat's line
    assert not lines.line()
    printed = out.getvalue().splitlines()
    assert len(printed) == 3, printed
    assert printed[0] == "[     0 s] gate on reference · 0 of 3 run(s) done"
    assert printed[1] == "[    16 s] gate on reference · 0 of 3 run(s) done · simulated 2026-03-02 10:00Z"
    assert printed[2] == ("[    33 s] gate on reference · 1 of 3 run(s) done, 1 failed · "
                          "simulated 2026-03-02 10:00Z")


def test_the_heartbeat_thread_prints_without_events():
    out, clock = io.StringIO(), Clock()
    with Lines(out, every=15, clock=clock) as lines:
        lines.started("run", 1)
        clock.now += 15  # the thread (waking every second or less) finds a line due
        for _ in range(200):
            if out.getvalue().count("\n") >= 2:
                break
            lines._stop.wait(0.05)
    assert out.getvalue().count("\n") >= 2, out.getvalue()


def bench(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY")}
    return subprocess.run([*BENCH, *args], cwd=cwd, env=environ | {"PYTHONPATH": str(ROOT)} | env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)


def test_piped_run_prints_plain_progress_lines(tmp_path):
    (tmp_path / "tiny.toml").write_text(TINY)
    done = bench(["run", "tiny.toml", "--report-dir", "r"], tmp_path, ROLLUP_BENCH_PROGRESS_EVERY="0")
    assert done.returncode == 0, done.stdout + done.stderr
    progress = [line for line in done.stdout.splitlines() if line.startswith("[") and " s] tiny on " in line]
    assert len(progress) >= 10, done.stdout  # a line per progress event: one per operation at least
    assert "simulated 2026-" in progress[-1] and " ticks · " in progress[-1]
    assert "\x1b[" not in "\n".join(progress)  # plain text, no terminal control
    quiet = bench(["run", "tiny.toml", "--report-dir", "r2"], tmp_path)  # every 14 s: the first line only, here
    assert len([line for line in quiet.stdout.splitlines() if " s] tiny on " in line]) < len(progress)


@pytest.mark.slow
def test_on_github_actions_a_failure_is_annotated_and_the_summary_goes_to_the_step_summary(tmp_path):
    (tmp_path / "tiny.toml").write_text(TINY)
    skip = f"{Target.resolve('reference').dirs[0]},{TARGETS / 'skip_mini_rollup'}"
    summary = tmp_path / "step.md"
    argv = ["run", "tiny.toml", "--target", skip, "--seeds", "3-4", "--jobs", "1", "--report-dir", "r"]
    done = bench(argv, tmp_path, GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(summary))
    assert done.returncode == 1, done.stdout + done.stderr  # seed 4 fails, 3 passes
    errors = [line for line in done.stdout.splitlines() if line.startswith("::error ")]
    assert len(errors) == 1 and "tiny seed 4" in errors[0] and "replay: rollup-bench replay" in errors[0], errors
    assert summary.read_text().startswith("## tiny seeds 3-4 on ") and "1 of 2 run(s) passed" in summary.read_text()
    told = bench([*argv, "--summary", "none"], tmp_path, GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(summary))
    assert told.returncode == 1 and summary.read_text().count("## tiny") == 1  # told otherwise: not appended
    off = bench(argv, tmp_path)
    assert off.returncode == 1 and "::error" not in off.stdout
