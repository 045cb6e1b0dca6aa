"""Probe (opt-in: `pytest -m probe -n 0 tests/test_probe_signals.py`): SIGTERM to the process group of a command,
as a CI runner's cancellation or GNU `timeout` sends it, at a seeded random moment; each time nothing of the bench
may be left running, no server's data folder left, and the exit code and line must be as documented
(docs/verdict.md#interruptions). PROBE_RUNS (default 10) trials per command; PROBE_SEED moves the moments.

A trial watches the command while it runs: the processes of its session (the command, its pool's or Dask's
workers) and the servers' work folders they own (/tmp/rollup-bench-*, named by owner.pid). Servers and their guards
run in sessions of their own, so they are found through those folders: any process whose command line names one.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.probe

ROOT = Path(__file__).resolve().parent.parent
BENCH = str(Path(sys.executable).with_name("rollup-bench"))
RUNS = int(os.environ.get("PROBE_RUNS") or 10)
SEED = int(os.environ.get("PROBE_SEED") or 0)
EXIT_WITHIN = 120.0  # seconds for the command to exit once signalled (a bound against a hang)
CLEAN_WITHIN = 60.0  # seconds for its servers' guards to finish after it exited

# command, and the window (seconds after its start) the signal falls in
COMMANDS = {
    "gate": (["gate", "--jobs", "2"], (1.0, 90.0)),
    "run-cluster": (["run", "scenarios/smoke.toml", "--seeds", "1-20", "--cluster", "local", "--jobs", "2"],
                    (1.0, 60.0)),
    "capacity": (["capacity", "scenarios/capacity/gate.toml", "--quick"], (1.0, 60.0)),
}


def session_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return None if fields[0] == "Z" else int(fields[3])  # state, ppid, pgrp, session
    except (OSError, ValueError, IndexError):
        return None


def pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


class Watch:
    """What a command started: its session's processes and the server folders they own, sampled while it runs."""

    def __init__(self, sid: int):
        self.sid, self.members, self.folders = sid, {sid}, set()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._done.wait(0.2):
            self.members |= {p for p in pids() if session_of(p) == self.sid}
            for folder in Path("/tmp").glob("rollup-bench-*"):
                try:
                    if int((folder / "owner.pid").read_text()) in self.members:
                        self.folders.add(folder)
                except (OSError, ValueError):
                    pass

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def left(self) -> list[str]:
        """Everything of the command still there: processes of its session, processes naming its server folders
        (postmasters, guards), the folders themselves."""
        out = [f"pid {p} (session)" for p in pids() if session_of(p) == self.sid]
        needles = [str(f).encode() for f in self.folders]
        out += [f"pid {p}: {cmdline(p)[:80]!r}" for p in pids()
                if session_of(p) is not None and any(n in cmdline(p) for n in needles)]
        return out + [f"folder {f}" for f in self.folders if f.exists()]


def trial(args: list[str], delay: float, report_dir: Path) -> tuple[str, str]:
    """One trial: ('ok' | 'finished first' | a failure, stderr)."""
    proc = subprocess.Popen([BENCH, *args, "--report-dir", str(report_dir)], cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    watch = Watch(proc.pid)
    try:
        proc.wait(timeout=delay)
        watch.stop()
        return "finished first", proc.stderr.read()
    except subprocess.TimeoutExpired:
        pass
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=EXIT_WITHIN)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        watch.stop()
        return f"no exit within {EXIT_WITHIN:.0f} s of SIGTERM", ""
    watch.stop()
    deadline = time.monotonic() + CLEAN_WITHIN
    while (left := watch.left()) and time.monotonic() < deadline:
        time.sleep(0.2)
    lines = [line for line in err.splitlines() if line.strip()]
    problems = []
    if proc.returncode != 128 + signal.SIGTERM:
        problems.append(f"exit {proc.returncode}")
    if not any(line.startswith("interrupted by SIGTERM") for line in lines):
        problems.append("no 'interrupted by SIGTERM' line")
    if "Traceback" in err:
        problems.append("a traceback")
    if left:
        problems.append("left: " + "; ".join(left[:5]))
    return ", ".join(problems) or "ok", err


@pytest.mark.parametrize("name", list(COMMANDS))
def test_sigterm_to_the_process_group_leaves_nothing(name, tmp_path):
    args, (lo, hi) = COMMANDS[name]
    rng = random.Random(f"{name}-{SEED}")
    outcomes: dict[str, int] = {}
    failures = []
    for i in range(RUNS):
        delay = rng.uniform(lo, hi)
        outcome, err = trial(args, delay, tmp_path / f"trial{i}")
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if outcome not in ("ok", "finished first"):
            failures.append(f"trial {i} (SIGTERM at {delay:.1f} s): {outcome}\n{err[-2000:]}")
    print(f"{name}: {RUNS} trial(s): {outcomes}")
    assert not failures, "\n".join(failures)
    assert outcomes.get("ok", 0) > 0, f"every trial finished before its signal: {outcomes}"
