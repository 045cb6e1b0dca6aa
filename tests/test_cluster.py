"""A batch beyond the process pool: on a Dask cluster (bench/orchestrate/cluster.py) with the verdicts and histories of the
pool, each worker's servers stopped when the batch ends; `--shard K/N` and `rollup-bench merge` giving back the
unsharded batch (bench/orchestrate/shards.py, merge.py); and `--until-failure` stopping at the first failing seed
(bench/orchestrate/matrix.py)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import psutil
import pytest
from distributed import Client, LocalCluster
from junitparser import JUnitXml
from typer.testing import CliRunner

from bench.orchestrate import cluster
from bench.cli.main import app
from bench.orchestrate.batch import run_requests
from bench.orchestrate.merge import join
from bench.orchestrate.request import RunRequest, ScenarioText
from bench.orchestrate.shards import Shard, parse_shard
from rollup.migrations import Target
from tests.helpers import MINI

cli = CliRunner()
TARGETS = Path(__file__).parent / "targets"


# Three hours, three usage rows or so, of openai's two models: on skip_mini_rollup a seed fails exactly when it
# drew gpt-5-mini — seeds 2 and 3 pass, 4 and 5 fail (a sweep with a first failure that is not its first seed).
TINY = """
[scenario]
name = "tiny"
seed = 1
duration = "3h"
[tenants]
workspaces = 1
issues = 2
[rates]
tasks_per_hour = 1.0
usage_rows_per_task = [1, 1]
diurnal = "flat"
[rates.providers]
openai = 1.0
[operations]
per_hour = 0.5
[pipeline]
check_every = "3h"
[zones]
view = ["UTC"]
"""


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("scenarios")
    (folder / "mini.toml").write_text(MINI)
    (folder / "tiny.toml").write_text(TINY)
    return {"mini": folder / "mini.toml", "tiny": folder / "tiny.toml"}


@pytest.fixture(scope="module")
def skip_mini() -> str:
    return f"{Target.resolve('reference').dirs[0]},{TARGETS / 'skip_mini_rollup'}"


def same(v: dict) -> tuple:
    return v["scenario"], v["seed"], v["target"], v["ok"], v["checks"], v["history_sha256"]


def descendants() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


def test_a_cluster_gives_the_pools_verdicts_and_stops_its_servers_when_the_batch_ends(scenarios, tmp_path):
    jobs = lambda d: [RunRequest(ScenarioText.read(scenarios["mini"]), t, seed=s, report_dir=tmp_path / d)
                      for t, s in (("hardened", 1), ("reference", 2), ("hardened", 2))]
    pool = run_requests(jobs("pool"), 2)
    before, seen = descendants(), []
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as local, \
            Client(local) as client:
        # by its address, as `--cluster tcp://HOST:8786` reaches a scheduler that outlives the batch
        dask = cluster.run_on_cluster(jobs("dask"), local.scheduler_address, 2,
                                      on_done=lambda req, v: seen.append(req.seed))
        workers = client.run(lambda dask_worker: dask_worker.name)
        assert len(workers) == 2  # both still alive after the batch: its own teardown stopped their servers
        live = client.run(lambda: __import__("rollup.servers").servers._LIVE.__len__())
        plugins = client.run(lambda dask_worker: [p for p in dask_worker.plugins if p.startswith("rollup-bench")])
    assert [same(v) for v in dask] == [same(v) for v in pool], "the cluster's verdicts differ from the pool's"
    assert all(v["operations"]["by_kind"].get("restart", 0) for v in dask)  # the restarts happened
    assert sorted(seen) == [1, 2, 2]  # streamed back one by one
    assert set(live.values()) == {0}, f"servers left running on the workers: {live}"
    assert not any(plugins.values()), plugins
    assert not descendants() - before, "worker processes outlived the cluster"


def test_a_scheduler_that_is_not_there_is_one_line_and_exit_2(scenarios, monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 1)
    for address, message in (("tcp://127.0.0.1:1", "no Dask scheduler answers"), ("nowhere", "expected 'local'")):
        result = cli.invoke(app, ["run", str(scenarios["tiny"]), "--seeds", "1", "--cluster", address])
        assert result.exit_code == 2 and message in result.output, result.output


@pytest.mark.slow
def test_until_failure_stops_at_the_first_failing_seed_on_the_pool_and_the_cluster(scenarios, skip_mini, tmp_path):
    for how in (["--jobs", "1"], ["--jobs", "2"], ["--cluster", "local", "--jobs", "2"]):
        out = tmp_path / f"{how[-1]}{len(how)}.json"
        result = cli.invoke(app, ["run", str(scenarios["tiny"]), "--target", skip_mini, "--seeds", "2-8",
                                  "--until-failure", *how, "--report-dir", str(tmp_path / "r"), "--json", str(out)])
        assert result.exit_code == 1, result.output
        seeds = [v["seed"] for v in json.loads(out.read_text())["runs"]]
        assert seeds[:3] == [2, 3, 4] and set(seeds) <= {2, 3, 4, 5}, (how, seeds)  # none started after the 4th
        text = " ".join(result.output.split())
        assert "seed 4 on embedded is the first failing seed" in text, result.output
        assert "replay: rollup-bench replay" in text and "tiny-skip_mini_rollup-seed4.history.jsonl" in text
        assert "trimmed reproduction" in text and " --only " in text, result.output
    result = cli.invoke(app, ["run", str(scenarios["tiny"]), "--until-failure"])
    assert result.exit_code == 2 and "--until-failure needs --seeds" in result.output


def test_shards_merged_are_the_unsharded_batch(scenarios, skip_mini, tmp_path):
    argv = ["run", str(scenarios["tiny"]), "--target", skip_mini, "--seeds", "1-5", "--jobs", "1"]
    whole = cli.invoke(app, [*argv, "--report-dir", str(tmp_path / "w"), "--json", str(tmp_path / "whole.json")])
    assert whole.exit_code == 1, whole.output  # seeds 4 and 5 fail
    shards = []
    for k in (3, 1, 2):  # in any order
        shards.append(tmp_path / f"shard{k}.json")
        r = cli.invoke(app, [*argv, "--shard", f"{k}/3", "--report-dir", str(tmp_path / f"s{k}"),
                             "--json", str(shards[-1])])
        assert r.exit_code in (0, 1), r.output
    assert [v["seed"] for v in json.loads((tmp_path / "shard1.json").read_text())["runs"]] == [1, 4]
    out, junit, summary = tmp_path / "merged.json", tmp_path / "merged.xml", tmp_path / "merged.md"
    merged = cli.invoke(app, ["merge", *map(str, shards), "--json", str(out), "--junit", str(junit),
                              "--summary", str(summary)])
    assert merged.exit_code == whole.exit_code, merged.output
    runs, want = json.loads(out.read_text())["runs"], json.loads((tmp_path / "whole.json").read_text())["runs"]
    assert [same(v) for v in runs] == [same(v) for v in want]
    assert JUnitXml.fromfile(str(junit)).tests == 5 and JUnitXml.fromfile(str(junit)).failures == 2
    assert summary.read_text().startswith("## tiny seeds 1-5 on ") and "3 of 5 run(s) passed" in summary.read_text()


def batch(target: str = "reference", runs=((1, "embedded"),), shard: tuple | None = None, jobs: int = 3) -> dict:
    doc = {"target": target, "ok": True, "runs": [{"scenario": "s", "seed": s, "server": g, "read_side": "faithful",
                                                   "ok": True} for s, g in runs]}
    if shard:
        doc["shard"] = {"k": shard[0], "n": shard[1], "title": "s seeds 1-3", "jobs": jobs,
                        "runs": [s - 1 for s, _ in runs], "errors": [], "stopped": False}
    return doc


@pytest.mark.parametrize("docs, message", [
    ([batch(), batch("hardened", runs=((2, "embedded"),))], "shards of different targets do not merge"),
    ([batch(shard=(1, 3)), batch(runs=((1, "embedded"),), shard=(1, 3))], "are both shard 1/3: overlapping"),
    ([batch(runs=((1, "embedded"),), shard=(1, 3)), batch(runs=((2, "embedded"),), shard=(2, 3))],
     "shard(s) 3/3 missing"),
    ([batch(runs=((1, "embedded"),), shard=(1, 2)), batch(runs=((2, "embedded"),), shard=(2, 3))],
     "not one batch's shards"),
    ([batch(runs=((1, "embedded"),)), batch(runs=((1, "embedded"),))], "overlap: both ran s seed 1 on embedded"),
    ([batch(shard=(1, 1)), batch(runs=((2, "embedded"),))], "a whole batch: they do not merge"),
])
def test_merge_refuses_what_would_not_be_one_batch(tmp_path, docs, message):
    files = []
    for i, d in enumerate(docs):
        files.append(tmp_path / f"{i}.json")
        files[-1].write_text(json.dumps(d))
    result = cli.invoke(app, ["merge", *map(str, files)])
    assert result.exit_code == 2 and message in " ".join(result.output.split()), result.output
    assert result.output.count("\n") == 1  # one line


def test_merge_joins_whole_batches_of_different_servers_and_reads_files_with_care(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(batch(runs=((1, "embedded"),))))
    b.write_text(json.dumps(batch(runs=((1, "local"),))))
    merged, title = join([a, b])
    assert [v["server"] for v in merged["runs"]] == ["embedded", "local"] and merged["ok"] and title == "merged"
    (tmp_path / "bad.json").write_text("{")
    (tmp_path / "other.json").write_text("[1]")
    for name, message in (("bad.json", "not JSON"), ("other.json", "not a batch's JSON"), ("gone.json", "cannot read")):
        result = cli.invoke(app, ["merge", str(tmp_path / name)])
        assert result.exit_code == 2 and message in result.output, result.output


def test_shards_are_round_robin_slices_and_bad_ones_exit_2(scenarios):
    assert [Shard(k, 3).indexes(7) for k in (1, 2, 3)] == [[0, 3, 6], [1, 4], [2, 5]]
    assert parse_shard("2/3") == Shard(2, 3) and Shard(1, 4).indexes(0) == []
    for bad in ("0/3", "4/3", "x", "3", "1/0"):
        with pytest.raises(ValueError, match="--shard"):
            parse_shard(bad)
        result = cli.invoke(app, ["run", str(scenarios["tiny"]), "--seeds", "1-2", "--shard", bad])
        assert result.exit_code == 2 and "expected K/N" in result.output, result.output
    result = cli.invoke(app, ["gate", "--shard", "5/3"])
    assert result.exit_code == 2 and "expected K/N" in result.output, result.output


@pytest.fixture
def elsewhere(tmp_path):
    """A Dask scheduler and a worker started as processes in a folder of their own (not a LocalCluster): the
    scheduler's address; skipped if they cannot start here."""
    import shutil
    import subprocess
    import sys
    import time

    folder, file = tmp_path / "elsewhere", tmp_path / "elsewhere" / "scheduler.json"
    folder.mkdir()
    dask = shutil.which("dask", path=str(Path(sys.executable).parent))
    if dask is None:
        pytest.skip("no dask command beside this Python")
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                               "--scheduler-file", str(file)], cwd=folder, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)]
    try:
        for _ in range(300):  # the scheduler writes its address once it listens
            if file.exists() and file.stat().st_size:
                break
            time.sleep(0.1)
        else:
            pytest.skip("the Dask scheduler did not start")
        procs.append(subprocess.Popen([dask, "worker", "--scheduler-file", str(file), "--nthreads", "1",
                                       "--no-nanny", "--memory-limit", "0"], cwd=folder,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        yield json.loads(file.read_text())["address"], folder
    finally:
        for p in reversed(procs):  # the worker first: its teardown stops its servers
            p.terminate()
            p.wait(timeout=60)


@pytest.mark.slow
def test_a_worker_elsewhere_gets_the_files_by_content_and_the_record_comes_back(elsewhere, tmp_path, monkeypatch):
    from bench.orchestrate import content
    from rollup.readside import FILES

    address, folder = elsewhere
    client = tmp_path / "client"  # the project's folder: every path relative to it, none the worker can see
    shutil.copytree(Target.resolve("reference").dirs[0], client / "db" / "migrations")
    (client / "db" / "reports.sql").write_text((FILES / "faithful.sql").read_text() + "\n-- ours\n")
    (client / "mini.toml").write_text(MINI)
    monkeypatch.chdir(client)
    argv = ["run", "mini.toml", "--target", "db/migrations", "--read-side", "db/reports.sql", "--seeds", "2"]
    here = cli.invoke(app, [*argv, "--jobs", "1", "--report-dir", "here", "--json", "here.json"])
    assert here.exit_code in (0, 1), here.output  # (the reference's own divergences: a verdict either way)
    there = cli.invoke(app, [*argv, "--cluster", address, "--report-dir", "there", "--json", "there.json"])
    assert there.exit_code == here.exit_code, there.output
    [v] = json.loads((client / "there.json").read_text())["runs"]
    [w] = json.loads((client / "here.json").read_text())["runs"]
    assert v["history_sha256"] == w["history_sha256"] and v["checks"] == w["checks"]
    assert v["history"] == "there/mini-migrations-seed2.history.jsonl" and v["read_side"] == "db/reports.sql"
    assert (client / v["history"]).exists() and (client / f"{v['history']}.checks").is_dir()
    assert (client / v["report"]).exists() and v["history"] in v["replay"]
    assert not list(folder.rglob("*.history.jsonl"))  # nothing written where the worker runs
    sql = (client / "db" / "reports.sql").read_bytes()
    assert (content.CACHE / "blobs" / hashlib.sha256(sql).hexdigest()).exists()  # cached by digest
