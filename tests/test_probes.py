"""Probes of issue 37's inputs, as a CI runner and a careless user would send them: each through the real command
line in a subprocess, each a one-line `error:` on stderr, its documented exit code, no traceback, and a bounded
run time (the subprocess's timeout, not a timing assertion). The slow ones (two batches at once for real) carry
the `probe` marker and run only when asked: `.venv/bin/pytest -m probe tests/test_probes.py` (docs/testing.md)."""

from __future__ import annotations

import fcntl
import http.server
import json
import os
import shutil
import socket
import socketserver
import subprocess
import sys
import threading
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from bench.cli.claim import LOCK
from bench.drive.chain import Chain
from bench.workload.bounds import ENTITIES_MAX, SEEDS_MAX, SHARDS_MAX
from rollup.migrations import MIGRATIONS_ROOT
from rollup.servers import start_server

SCENARIOS = MIGRATIONS_ROOT.parent / "scenarios"
PEER = str(SCENARIOS / "peer" / "idempotent.toml")
TAIL = len(b',"~":"0123456789abcdef"}')  # a line's link, as bench/drive/chain.py writes it


def bench(*args: str, timeout: float = 90, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench.cli.main", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd)


def one_line(r: subprocess.CompletedProcess, code: int, *needles: str) -> str:
    """The command's one line of error, having checked the exit code and that nothing else went wrong."""
    said = r.stderr + r.stdout
    assert r.returncode == code, said
    assert "Traceback" not in said, said
    # a note (another command holds the report folder: this one writes under its own) is no error line
    lines = [line for line in r.stderr.splitlines() if line.strip() and not line.startswith("note: ")]
    assert len(lines) == 1 and lines[0].startswith("error: "), said
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


# ------------------------------------------------------------------ bounds (37.3)

HEAD = '[scenario]\nname = "probe"\n'


@pytest.mark.parametrize("body, needle", [
    ("[rates]\ntasks_per_hour = 1e12\n", "rates.tasks_per_hour: 1000000000000.0 out of range"),
    ("[rates]\ntasks_per_hour = 1e7\n", "rates.tasks_per_hour: 10000000.0 out of range"),
    ("[operations]\nper_hour = 1e12\n", "operations.per_hour: 1000000000000.0 out of range"),
    ("[rates]\nburst_factor = 1e12\n", "rates.burst_factor: 1000000000000.0 out of range"),
    ("[rates]\nbursts_per_day = 1e9\n", "rates.bursts_per_day"),
    ("[tenants]\nagents = 100000000\n", "tenants.agents: 100000000 out of range"),
    ("[tenants]\nissues = 1000000000\n", "tenants.issues: 1000000000 out of range"),
    ("[tenants]\nusers = 1000000000\n", "tenants.users: 1000000000 out of range"),
    ("[tenants]\nworkspaces = 1000\nagents = 10000\n", f"at most {ENTITIES_MAX}"),
    ("[rates.tokens]\ninput_median = 1000000000000000000\n", "rates.tokens.input_median"),
    ("[rates.tokens]\ninput_sigma = 50\n", "rates.tokens.input_sigma"),
    ("[rates.tokens]\ncache_read_ratio = 1e15\n", "rates.tokens.cache_read_ratio"),
    ("[scenario]\nduration = \"400d\"\n[rates]\ntasks_per_hour = 9000.0\n[tenants]\nworkspaces = 100\n",
     "the generated workload would hold about"),
])
def test_numbers_that_size_work_or_memory_are_bounded(tmp_path, body, needle):
    text = HEAD + body if not body.startswith("[scenario]") else body.replace("[scenario]\n", HEAD, 1)
    (tmp_path / "s.toml").write_text(text)
    one_line(bench("run", str(tmp_path / "s.toml"), "--report-dir", str(tmp_path / "r")), 2, needle)


@pytest.mark.parametrize("option, value, needle", [
    ("--seeds", "1-10000000000", f"at most {SEEDS_MAX} seeds"),
    ("--seeds", "99999999999999999999", "each below 2^63"),
    ("--shard", "1/1000000000", f"N ≤ {SHARDS_MAX}"),
])
def test_seed_and_shard_counts_are_bounded(tmp_path, option, value, needle):
    args = ["--seeds", "1-2"] if option == "--shard" else []
    one_line(bench("run", PEER, option, value, *args, "--report-dir", str(tmp_path)), 2, needle)


@pytest.mark.parametrize("doc, needle", [
    ({"target": "reference", "ok": True, "runs": [], "shard": {}}, "shard: k, n, title, jobs, runs, errors missing"),
    ({"target": "reference", "ok": True, "runs": [{}]}, "runs[0]: scenario, seed, ok missing"),
    ({"target": "reference", "ok": True, "runs": [], "shard": {"k": 1, "n": 10**9, "title": "t", "jobs": 3,
                                                               "runs": [], "errors": []}}, "out of range"),
    ({"target": "reference", "ok": True, "runs": [], "shard": {"k": 1, "n": 2, "title": "t", "jobs": 3,
                                                               "runs": [10**12], "errors": []}}, "positions"),
    ({"target": "reference", "ok": True, "runs": [{"scenario": "s", "seed": 1, "ok": True}]}, "not a run's verdict"),
])
def test_hand_made_merge_inputs_are_one_line(tmp_path, doc, needle):
    (tmp_path / "m.json").write_text(json.dumps(doc))
    one_line(bench("merge", str(tmp_path / "m.json")), 2, needle)


# ------------------------------------------------------------------ conditions (37.4) and rollups.toml (37.7)

def _declared(tmp_path: Path, body: bytes) -> str:
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "rollups.toml").write_bytes(body)
    return f"{MIGRATIONS_ROOT / 'reference'},{tmp_path / 't'}"


def _where(cond: str) -> bytes:
    return ('[usage_columns.cost_usd]\ntype = "numeric"\n[[rollup]]\ntable = "task_usage_hourly"\n'
            f'[rollup.measures]\nx = {{ count = "*", where = {json.dumps(cond)} }}\n').encode()


@pytest.mark.parametrize("cond, needle", [
    ("input_tokens IN (SELECT 1)", "a subquery"),
    ("(SELECT count(*) FROM pg_class) > 0", "a subquery"),
    ("lpad(model, 2000000000, 'x') = 'a'", "the function lpad"),
    ("generate_series(1, 1e11) > 0", "the function generate_series"),
    ("cost_usd IS NULL; DROP TABLE task_usage", "2 statements"),
    ("cost_usd IS NULL --", "a comment"),
    ("pg_sleep(1000) IS NULL", "the function pg_sleep"),
    ("input_tokens::text = '1'", "a type cast"),
    ("repeat(model, 100000000) = ''", "the function repeat"),
    ("input_tokens * 1e300 > 0", "the operator *"),
    ("x" * 600 + " IS NULL", "at most 500"),
])
def test_a_condition_is_only_a_condition(tmp_path, cond, needle):
    one_line(bench("run", PEER, "--target", _declared(tmp_path, _where(cond))), 2, "is no condition", needle)


@pytest.mark.parametrize("body, needle", [
    (b"rollup = 5\n", "expected [[rollup]] tables"),
    (b"[[rollup]]\ntable = \"x\"\ngrain = \"\xff\"\n", "cannot read it"),
    (b"rollup = [5]\n", "each [[rollup]] needs table"),
])
def test_a_bad_rollups_toml_is_one_line(tmp_path, body, needle):
    one_line(bench("run", PEER, "--target", _declared(tmp_path, body)), 2, needle)


# ------------------------------------------------------------------ output paths (37.7), report folders (37.2)

@pytest.mark.parametrize("args", [
    ["gate", "--write-baseline", "{file}/baseline.toml", "--report-dir", "{dir}"],
    ["gate", "--report-dir", "{file}/reports"],
    ["gate", "--json", "{file}/x.json", "--report-dir", "{dir}"],
    ["run", PEER, "--json", "{file}/x.json", "--report-dir", "{dir}"],
    ["run", PEER, "--report-dir", "{file}/r"],
])
def test_an_output_path_under_a_file_is_refused_before_anything_runs(tmp_path, args):
    (tmp_path / "f").write_text("a file\n")
    values = {"file": str(tmp_path / "f"), "dir": str(tmp_path / "r")}
    one_line(bench(*[a.format(**values) for a in args], cwd=tmp_path, timeout=60), 2, "is a file, not a folder")


def test_a_report_folder_in_use_gets_a_folder_of_its_own(tmp_path):
    """What two commands at once do, made deterministic: this test holds the folder's lock, as a running gate
    would, and the run writes under a folder of its own inside it — and says where."""
    folder = tmp_path / "reports"
    folder.mkdir()
    fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        r = bench("run", PEER, "--report-dir", str(folder))
    finally:
        os.close(fd)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr + r.stdout
    assert "is in use by another rollup-bench command" in r.stderr
    own = [p.parent for p in folder.rglob("*.history.jsonl")]
    assert len(own) == 1 and own[0].parent == folder and own[0].name.startswith("run-"), own
    assert str(own[0]) in r.stdout.replace("\n", "")  # the report line points at the new path (wrapped)


# ------------------------------------------------------------------ history integrity (37.5)

@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Path:
    """One real run's folder (history, snapshots), judged OK: each test takes a copy."""
    folder = tmp_path_factory.mktemp("recorded")
    r = bench("run", PEER, "--report-dir", str(folder), timeout=180)
    assert r.returncode == 0, r.stderr + r.stdout
    return folder


def _copy(recorded: Path, tmp_path: Path) -> tuple[Path, list[bytes]]:
    for p in recorded.iterdir():
        (shutil.copytree if p.is_dir() else shutil.copy)(p, tmp_path / p.name)
    history = next(tmp_path.glob("*.history.jsonl"))
    return history, history.read_bytes().split(b"\n")[:-1]


def _write(history: Path, lines: list[bytes], relink: bool = False) -> None:
    """The lines back, each with its link recomputed if `relink` (a forgery the chain cannot see: what follows
    must be caught by the judge instead)."""
    if relink:
        chain = Chain()
        lines = [chain.link((line[:-TAIL] + b"}\n") if line.endswith(b'"}') and b'"~":' in line[-TAIL:]
                            else line + b"\n")[:-1] for line in lines]
    history.write_bytes(b"\n".join(lines) + b"\n")


def _first(lines: list[bytes], marker: bytes) -> int:
    return next(n for n, line in enumerate(lines) if marker in line and n > 0)


@pytest.mark.parametrize("tamper, line", [
    (lambda ls: ls.__setitem__(4, b'{"foo": 1}'), 5),  # replaced
    (lambda ls: ls.__delitem__(6), 7),  # dropped
    (lambda ls: ls.insert(3, ls[8]), 4),  # inserted (a copy of a genuine line, its link and all)
    (lambda ls: ls.__setitem__(2, ls[2][:1] + b" " + ls[2][1:]), 3),  # one byte (a space: the same JSON)
])
@pytest.mark.parametrize("command", ["check", "replay"])
def test_an_altered_dropped_or_inserted_line_is_named(recorded, tmp_path, tamper, line, command):
    history, lines = _copy(recorded, tmp_path)
    tamper(lines)
    _write(history, lines)
    one_line(bench(command, str(history), "--report-dir", str(tmp_path / "again"))
             if command == "replay" else bench(command, str(history)),
             2, f"{history}:{line}: the history's chain breaks here")


def test_a_history_cut_short_is_a_run_interrupted(recorded, tmp_path):
    history, lines = _copy(recorded, tmp_path)
    _write(history, lines[:len(lines) // 2])  # at a line's end: the chain holds up to there
    one_line(bench("check", str(history)), 2, "run interrupted", "before its final check")


def test_a_run_that_lost_its_server_is_interrupted_not_the_targets_failure(recorded, tmp_path):
    history, lines = _copy(recorded, tmp_path)
    n = _first(lines, b'"t":"ok"')
    i = json.loads(lines[n])["i"]
    lines[n] = json.dumps({"err": "57P01: terminating connection due to administrator command", "i": i,
                           "t": "fail"}, separators=(",", ":"), sort_keys=True).encode()
    _write(history, lines, relink=True)
    one_line(bench("check", str(history)), 2, "run interrupted", "lost their connection", "57P01")


def test_a_replay_that_differs_from_its_history_exits_1(recorded, tmp_path):
    history, lines = _copy(recorded, tmp_path)
    n = max(k for k, line in enumerate(lines) if b'"r":' in line and b'"t":"ok"' in line)  # the last check's rows
    doc = json.loads(lines[n][:-TAIL] + b"}")
    lines[n] = json.dumps(doc | {"r": doc["r"] + 1}, separators=(",", ":"), sort_keys=True).encode()
    _write(history, lines, relink=True)
    r = bench("replay", str(history), "--report-dir", str(tmp_path / "again"), timeout=180)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr + r.stdout
    assert "replayed history DIFFERS from the original" in r.stdout


def test_a_history_from_before_the_chain_still_reads_with_a_note(recorded, tmp_path):
    history, lines = _copy(recorded, tmp_path)
    _write(history, [line[:-TAIL] + b"}" for line in lines])
    r = bench("check", str(history))
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr + r.stdout
    assert [line for line in r.stderr.splitlines() if line.strip()] == [
        f"note: {history}: written before histories were chained: its integrity cannot be verified"]


# ------------------------------------------------------------------ environments (37.7)

def test_a_dsn_role_without_createdb_is_one_line(tmp_path):
    with start_server("embedded") as server:
        with psycopg.connect(server.admin_conninfo, autocommit=True) as conn:
            conn.execute("CREATE ROLE probe_nocreatedb LOGIN")
        dsn = make_conninfo(server.admin_conninfo, user="probe_nocreatedb", dbname="postgres")
        one_line(bench("run", PEER, "--pg", "dsn", "--dsn", dsn, "--report-dir", str(tmp_path)), 2,
                 "probe_nocreatedb cannot create databases")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def _banner(listener: socket.socket) -> None:
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")


@pytest.mark.parametrize("service, needle", [
    ("http", "sent no Dask handshake within"),  # an HTTP server waits for a request: the Client hung past 500 s
    ("banner", "not a Dask scheduler (it said b'SSH-2.0-'"),  # its greeting read as a length: MemoryError
    ("closed", "no Dask scheduler answers there"),
])
def test_a_cluster_address_that_is_no_dask_scheduler_is_one_line(tmp_path, service, needle):
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = None
    if service == "http":
        listener.close()
        server = socketserver.TCPServer(("127.0.0.1", port), _Quiet)
        threading.Thread(target=server.serve_forever, daemon=True).start()
    elif service == "banner":
        threading.Thread(target=_banner, args=(listener,), daemon=True).start()
    else:
        listener.close()
    try:
        one_line(bench("run", PEER, "--seeds", "1-2", "--cluster", f"tcp://127.0.0.1:{port}", "--report-dir",
                       str(tmp_path), timeout=60), 2, needle)
    finally:
        if server:
            server.shutdown()
            server.server_close()
        listener.close()


# ------------------------------------------------------------------ opt-in: neighbours for real (37.2)

@pytest.mark.probe
@pytest.mark.parametrize("command, folder", [(["run", PEER, "--seeds", "1-3", "--jobs", "1"], "reports"),
                                             (["gate", "--jobs", "2"], "reports/gate")], ids=["run-seeds", "gate"])
def test_two_commands_at_once_with_default_options_both_pass_with_files_of_their_own(tmp_path, command, folder):
    """As issue 37 found it: two of them at once on one runner, default report folder (relative to where they
    run) — before, both exited 2 reading a history the other was writing."""
    folder = tmp_path / folder
    args = [sys.executable, "-m", "bench.cli.main", *command]
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
             for _ in range(2)]
    outs = [p.communicate(timeout=1800) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0 and "Traceback" not in err, err + out
    histories = sorted(folder.rglob("*.history.jsonl"))
    assert len({h.parent for h in histories}) == 2 and len(histories) == len(set(histories))
    names = [sorted(h.name for h in histories if h.parent == d) for d in {h.parent for h in histories}]
    assert names[0] == names[1]  # the same runs, each in its own folder
