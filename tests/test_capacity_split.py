"""A capacity run over two servers: one pinned process per server, merged into one result as if measured together.

It starts its own two servers (the split pins a server it starts; one a test shares cannot be), so it skips where
the machine has fewer than two cores or no local PostgreSQL."""

from __future__ import annotations

import os

import pytest

from bench.capacity import parallel
from bench.capacity.run import CapacityRun
from bench.capacity.spec import load
from rollup.servers import ProvisionError, local_bin_dir

SPEC = """[capacity]
name = "split"
seed = 5
period = "200ms"
repetitions = 3

[history]
rows = [2000]
days = 2

[tenants]
workspaces = 2
runtimes = 2
agents = 2
projects = 1
issues = 3

[sweep.keys]
points = [1, 4]

[sweep.history]
change_keys = 2
"""


def _local_available() -> bool:
    try:
        local_bin_dir(None)
        return True
    except ProvisionError:
        return False


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="the split needs a core per server")
@pytest.mark.skipif(not _local_available(), reason="no local PostgreSQL on PATH")
def test_each_server_runs_pinned_to_its_own_core_and_the_results_merge(tmp_path):
    path = tmp_path / "split.toml"
    path.write_text(SPEC)
    seen: list[str] = []
    run = CapacityRun(load(path), ["reference"], ["embedded", "local"],
                      on_progress=lambda what, units: seen.append(what))
    assert parallel.splittable(run.pgs)
    out = run.execute()
    labels = [c["label"] for c in out["configs"]]
    assert len(labels) == 2 and {c["pg"] for c in out["configs"]} == {"embedded", "local"}
    assert set(out["keys"]) == set(labels)
    assert all([p["k"] for p in out["keys"][lb]["points"]] == [1, 4] for lb in labels)
    assert {t["config"] for t in run.ticks} == set(labels)  # every server's ticks came back
    split = out["machine"]["split"]
    cores = [split[pg]["core"] for pg in ("embedded", "local")]
    assert cores[0] != cores[1]
    for pg in ("embedded", "local"):  # the postmaster really runs on its driver's core alone
        assert split[pg]["postmaster_cores"] == [split[pg]["core"]]
    assert set(out["sweep_seconds"]) == {"embedded", "local"} and not out["failed_sweeps"]
    for pg in ("embedded", "local"):  # each process's lanes flushed the page cache, and the time is its own
        flushed = out["flush_seconds"][pg]
        assert set(flushed) == set(out["sweep_seconds"][pg]) and flushed["keys"] > 0
        assert all(flushed[s] <= out["sweep_seconds"][pg][s] for s in flushed)
    for sweep in ("keys", "history"):  # in step: no process starts a sweep before both have reached it
        arrived = max(split[pg]["synced"][sweep][0] for pg in ("embedded", "local"))
        assert all(split[pg]["synced"][sweep][1] >= arrived for pg in ("embedded", "local"))
    assert any(w.startswith("local: ") for w in seen) and any(w.startswith("embedded: ") for w in seen)


def test_one_server_or_a_given_one_is_not_split():
    assert not parallel.splittable(["embedded"])
    assert not parallel.splittable(["embedded", "dsn"])  # a server the run does not start cannot be pinned
