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

from tests.helpers import request

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


# ---------------------------------------------------------------- every wait has a deadline

# A tick, then a backfill that needs the tick's advisory lock: on tests/targets/tick_leaks_lock it never gets it.
LEAK_SCENARIO = """
[scenario]
name = "leaks-lock"
description = "A tick, then a backfill that takes the tick's advisory lock."
start = 2026-03-01T10:00:00Z
duration = "2h"

[[step]]
do = "task"
at = "10m"
name = "t1"
agent = "A.a1"
issue = "A.i1"

[[step]]
do = "usage"
at = "11m"
task = "t1"
input = 100

[[step]]
do = "ticks"
at = "20m"
until = "30m"

[[step]]
do = "backfill"
at = "40m"

[[step]]
do = "check"
at = "55m"
"""

LEAKS = "migrations/reference,migrations/hardened,tests/targets/tick_leaks_lock"


@pytest.mark.slow
def test_a_run_whose_target_never_releases_a_lock_fails_naming_the_wait_and_the_batch_goes_on(tmp_path, monkeypatch):
    from bench.drive import watchdog
    from bench.orchestrate.batch import run_requests
    from bench.orchestrate.request import NoVerdict

    monkeypatch.setattr(watchdog, "DEADLINE", 2.0)  # the wait, not the deadline's size, is under test
    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    scenario = tmp_path / "leak.toml"
    scenario.write_text(LEAK_SCENARIO)
    reqs = [request(scenario, LEAKS, tmp_path / "leak"), request(scenario, "hardened", tmp_path / "ok")]
    stuck, healthy = run_requests(reqs, workers=1)
    assert isinstance(stuck, NoVerdict) and stuck.code == 1, stuck
    for named in ("backfill", "pg_advisory_lock", "advisory lock 4246", "held by pid", "deadline of 2 s"):
        assert named in stuck.error
    assert not isinstance(healthy, NoVerdict) and healthy.ok, healthy  # the same scenario without the leak


def test_a_statement_past_its_deadline_is_cancelled_and_described(db):
    from bench.drive.watchdog import Stuck, Watchdog

    dog = Watchdog(db, deadline=1.0, poll=0.1)
    try:
        with db.connect() as conn:
            with pytest.raises(Exception) as cancelled:
                conn.execute("SELECT pg_sleep(600)")  # never returns on its own
        assert cancelled.value.sqlstate == "57014"
        with pytest.raises(Stuck, match=r"a tick: `SELECT pg_sleep\(600\)` \(pid \d+\) ran \d+ s"):
            dog.check("a tick")
    finally:
        dog.stop()


def test_a_statement_within_its_deadline_is_left_alone(db):
    from bench.drive.watchdog import Watchdog

    dog = Watchdog(db, deadline=30.0, poll=0.1)
    try:
        with db.connect() as conn:
            conn.execute("SELECT pg_sleep(0.5)")
        dog.check("a tick")  # nothing past the deadline: no Stuck
    finally:
        dog.stop()
    assert not dog.tripped


# ---------------------------------------------------------------- a worker whose server died

def own_postmasters() -> list[int]:
    """The postmasters of the servers this process started (their work folders name it as owner)."""
    found = []
    for workdir in Path("/tmp").glob("rollup-bench-*"):
        try:
            if int((workdir / "owner.pid").read_text()) == os.getpid():
                found.append(int((workdir / "data" / "postmaster.pid").read_text().split()[0]))
        except (OSError, ValueError, IndexError):
            pass
    return found


@pytest.mark.slow
def test_a_worker_whose_server_died_starts_a_new_one_and_the_batch_goes_on(tmp_path, monkeypatch):
    from bench.orchestrate.batch import run_requests

    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    killed, others = [], set(own_postmasters())  # the session's servers (other tests' fixtures) are left alone

    def kill_the_server(req, verdict):
        if not killed:  # after the first run: the worker's server dies under it
            killed.extend(set(own_postmasters()) - others)
            for pid in killed:
                os.kill(pid, signal.SIGKILL)

    reqs = [request(Path("scenarios/smoke.toml"), "reference", tmp_path, seed=s) for s in (1, 2, 3)]
    results = run_requests(reqs, workers=1, on_done=kill_the_server)
    assert len(killed) == 1
    assert [getattr(r, "ok", None) for r in results] == [True, True, True], [str(r) for r in results]


# ---------------------------------------------------------------- a command interrupted

def owned_by(members: set[int]) -> list[Path]:
    out = []
    for workdir in Path("/tmp").glob("rollup-bench-*"):
        try:
            if int((workdir / "owner.pid").read_text()) in members:
                out.append(workdir)
        except (OSError, ValueError):
            pass
    return out


def session_members(sid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[3]) == sid:
                        found.add(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return found


@pytest.mark.slow
@pytest.mark.parametrize("sig, jobs", [(signal.SIGINT, "2"), (signal.SIGHUP, "1")],
                         ids=["SIGINT-jobs2", "SIGHUP-jobs1"])
def test_a_signalled_command_says_so_on_one_line_and_leaves_nothing(sig, jobs, tmp_path):
    bench = str(Path(sys.executable).with_name("rollup-bench"))
    proc = subprocess.Popen([bench, "run", "scenarios/smoke.toml", "--seeds", "1-8", "--jobs", jobs,
                             "--report-dir", str(tmp_path)], cwd=Path(__file__).resolve().parent.parent,
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    members, folders = {proc.pid}, []

    def a_server_runs() -> bool:  # signalled mid-run: once a server of its own is up
        members.update(session_members(proc.pid))
        folders[:] = [f for f in owned_by(members) if (f / "data" / "postmaster.pid").exists()]
        assert proc.poll() is None, "the command finished before a server of its own was seen"
        return bool(folders)

    poll(a_server_runs, "no server of its own after")
    os.killpg(proc.pid, sig)
    _, err = proc.communicate(timeout=DEADLINE)
    assert proc.returncode == 128 + sig
    assert [line for line in err.splitlines() if line.strip()] == [
        f"interrupted by {signal.Signals(sig).name}: stopping what this command started (exit {128 + sig})"]
    poll(lambda: not any(f.exists() for f in folders), "a data folder is there")
    poll(lambda: not session_members(proc.pid), "a process of the command runs")


@pytest.mark.slow
def test_ctrl_c_ends_a_batch_whose_worker_waits_on_a_lock_that_is_never_released(tmp_path):
    import psycopg

    scenario = tmp_path / "leak.toml"
    scenario.write_text(LEAK_SCENARIO)
    env = {**os.environ, "ROLLUP_BENCH_DEADLINE": "3600"}  # only the interrupt can end the wait
    bench = str(Path(sys.executable).with_name("rollup-bench"))
    proc = subprocess.Popen([bench, "run", str(scenario), "--target", LEAKS, "--seeds", "1-2", "--jobs", "2",
                             "--report-dir", str(tmp_path / "r")], cwd=Path(__file__).resolve().parent.parent, env=env,
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    members, folders = {proc.pid}, []

    def a_backfill_waits() -> bool:
        assert proc.poll() is None, "the command finished before its backfill waited"
        members.update(session_members(proc.pid))
        folders[:] = owned_by(members)
        for folder in folders:
            try:
                with psycopg.connect(host=str(folder), user="postgres", dbname="postgres", connect_timeout=5) as c:
                    if c.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                                 " AND query LIKE '%pg_advisory_lock%'").fetchone()[0]:
                        return True
            except psycopg.Error:
                pass
        return False

    try:
        poll(a_backfill_waits, "no backfill waiting on the leaked lock after")
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=DEADLINE)  # a bound against a hang: it exits within seconds
    finally:
        if proc.poll() is None:  # it hangs: the test fails, and leaves nothing behind either
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130 and "Traceback" not in err, err
    poll(lambda: not any(f.exists() for f in folders), "a data folder is there")
    poll(lambda: not session_members(proc.pid), "a process of the command runs")
