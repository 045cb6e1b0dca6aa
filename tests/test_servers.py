"""Provisioning: every backend behind one interface, clear failures, nothing left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from rollup.database import Database
from rollup.servers import DockerServer, DsnServer, ProcessServer, ProvisionError, janitor, start_server

T = datetime(2026, 3, 1, tzinfo=UTC)


def databases(conninfo: str) -> set[str]:
    with psycopg.connect(conninfo, autocommit=True) as c:
        return {r[0] for r in c.execute("SELECT datname FROM pg_database")}


def running(pid: int) -> bool:
    """Alive and not a zombie (an exited child the container's init has not reaped yet)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_missing_binaries_say_which_backend_and_why(tmp_path):
    with pytest.raises(ProvisionError) as info:
        ProcessServer("local", tmp_path).start()
    assert str(info.value) == f"[local] initdb not found in {tmp_path}"
    with pytest.raises(ProvisionError, match=r"^\[nosuch\] unknown backend"):
        start_server("nosuch")
    with pytest.raises(ProvisionError, match=r"^\[dsn\] --dsn URL is required"):
        start_server("dsn")


def test_unreachable_dsn_is_a_provision_error(tmp_path):
    with pytest.raises(ProvisionError, match=r"^\[dsn\] cannot connect"):
        DsnServer(f"postgresql://postgres@/postgres?host={tmp_path}&connect_timeout=2")


def test_dsn_backend_only_creates_and_drops_its_own_database(server):
    before = databases(server.admin_conninfo)
    borrowed = DsnServer(server.admin_conninfo)
    with Database(borrowed, T) as db:
        assert databases(server.admin_conninfo) == before | {db.name}
        with db.connect() as c:
            assert c.execute("SELECT now()").fetchone()[0] == T
    assert databases(server.admin_conninfo) == before
    borrowed.stop()  # borrowed: stopping it must leave the server running
    assert server.version()


def test_started_server_runs_unprivileged_on_a_socket_and_leaves_nothing(server):
    if not isinstance(server, ProcessServer):
        pytest.skip("only servers the bench starts itself")
    workdir = server.workdir
    with psycopg.connect(server.admin_conninfo) as c:
        listen, data_dir = c.execute("SELECT current_setting('listen_addresses'), current_setting('data_directory')").fetchone()
    assert listen == ""
    assert Path(data_dir) == workdir / "data"
    if os.geteuid() == 0:
        assert Path(data_dir).stat().st_uid != 0
    other = ProcessServer(server.backend, server.bin_dir).start()
    other_dir = other.workdir
    assert other_dir.exists() and other_dir != workdir
    other.stop()
    assert not other_dir.exists()


def test_jit_reported_is_what_a_costly_query_gets(server):
    # Capacity results record it: on a build with LLVM, the hardened window compiled its plan on every tick.
    state = server.jit()
    assert state in ("on", "off", "unavailable")
    with psycopg.connect(server.admin_conninfo, autocommit=True) as conn:
        conn.execute("SET jit_above_cost = 0")
        plan = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) SELECT sum(g) FROM generate_series(1, 10) g").fetchone()[0]
    assert ("JIT" in plan[0]) == (state == "on"), (state, plan[0].keys())


def test_restart_keeps_data(server):
    if not isinstance(server, ProcessServer):
        pytest.skip("only servers the bench starts itself")
    srv = ProcessServer(server.backend, server.bin_dir).start()
    try:
        with Database(srv, T, name="restart_check") as db:
            with db.connect() as c:
                c.execute("CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)")
            db.clock.close()
            srv.restart()
            with db.connect() as c:
                assert c.execute("SELECT n FROM kept").fetchone()[0] == 42
    finally:
        srv.stop()


def test_ctrl_c_stops_the_server_and_removes_its_data(tmp_path):
    script = textwrap.dedent("""
        import sys, time
        from rollup.servers import start_server
        with start_server("embedded") as srv:
            print(srv.workdir, flush=True)
            time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    workdir = Path(proc.stdout.readline().strip())
    assert (workdir / "data" / "PG_VERSION").exists()
    pid = int((workdir / "data" / "postmaster.pid").read_text().split()[0])
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    assert not workdir.exists()
    assert not running(pid)


def test_janitor_removes_work_directories_of_dead_processes(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = Path("/tmp/rollup-bench-janitor-test")
    (stale / "data").mkdir(parents=True, exist_ok=True)
    (stale / "owner.pid").write_text(dead.stdout.strip())
    live = Path("/tmp/rollup-bench-janitor-live")
    live.mkdir(exist_ok=True)
    (live / "owner.pid").write_text(str(os.getpid()))
    janitor()
    assert not stale.exists() and live.exists()
    (live / "owner.pid").unlink()
    live.rmdir()


@pytest.mark.docker
def test_docker_backend():
    try:
        srv = DockerServer()
    except ProvisionError as exc:
        assert str(exc).startswith("[docker] no Docker engine is reachable")
        pytest.skip(f"no Docker engine: {exc.reason}")
    with srv, Database(srv, T) as db, db.connect() as c:
        assert c.execute("SELECT now()").fetchone()[0] == T
