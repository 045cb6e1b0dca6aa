"""Process lifetime: what the bench starts dies with it, however it dies (docs/verdict.md#interruptions).

Each test starts a bench process of its own and kills it. The polls have a deadline far above what any of it takes
(a bound against a hang, not a timing assertion)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

DEADLINE = 60.0  # seconds: generous on a loaded 2-core machine; a pass takes a few

# A bench process that starts an embedded server, says where it is, and waits to be killed.
STARTS_A_SERVER = """
import json, sys, time
from rollup.servers import start_server
server = start_server("embedded")
pid = int((server.data_dir / "postmaster.pid").read_text().split()[0])
print(json.dumps({"workdir": str(server.workdir), "postmaster": pid}), flush=True)
time.sleep(600)
"""


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"  # a zombie is dead, only not yet reaped
    except OSError:
        return False


def poll(condition, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"still {what} {DEADLINE:.0f} s on")
        time.sleep(0.1)


def bench_with_server() -> tuple[subprocess.Popen, dict]:
    proc = subprocess.Popen([sys.executable, "-c", STARTS_A_SERVER], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert line, "the bench process did not start its server"
    return proc, json.loads(line)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_server_dies_with_the_process_that_started_it(sig):
    proc, started = bench_with_server()
    workdir, postmaster = Path(started["workdir"]), started["postmaster"]
    assert alive(postmaster) and workdir.is_dir()
    proc.send_signal(sig)  # no handler, no atexit: only the guard can clean up
    proc.wait(timeout=DEADLINE)
    poll(lambda: not alive(postmaster), "the postmaster runs")
    poll(lambda: not workdir.exists(), "the data folder is there")


def test_a_server_stopped_by_its_owner_leaves_its_guard_nothing_to_do():
    from rollup.servers import start_server

    with start_server("embedded") as server:
        guard, workdir = server._guard, server.workdir
        assert guard.poll() is None  # it waits while its owner lives
    assert guard.returncode == 0 and not workdir.exists()
