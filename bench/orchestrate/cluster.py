"""A batch's runs on a Dask cluster (dask.distributed): `--cluster tcp://HOST:8786`, an existing scheduler, or
`--cluster local`, a LocalCluster of `--jobs` worker processes on this machine, one thread each.

Each Dask worker keeps its own servers and templates, as a process of the pool does (`bench.orchestrate.batch.Worker`):
a WorkerPlugin gives every worker thread a Worker of its own (a restart fault in one run must not restart
another's server) and stops their servers at teardown — when the batch unregisters it, or the worker closes.
The workers must import rollup-bench (the same environment as here) and see the same paths: scenarios, targets
and the report directory are given as this process names them, and each run writes its files where it runs."""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections.abc import Callable
from contextlib import contextmanager

from distributed import Client, LocalCluster, WorkerPlugin, as_completed, get_worker

from bench.orchestrate.batch import Job, Worker
from bench.orchestrate.errors import ClusterError
from bench.orchestrate.handshake import probe

CONNECT_TIMEOUT = 10  # seconds for a scheduler to answer
WAIT_FOR_WORKERS = 60  # seconds for it to have at least one worker
ADDRESS = re.compile(r"[a-z][a-z0-9+.-]*://\S+")


class BenchPlugin(WorkerPlugin):
    """Per Dask worker: a bench Worker per thread that runs jobs, each starting its servers when first needed."""

    def __init__(self, name: str, dsn: str | None, pg_bin: str | None):
        self.name, self.dsn, self.pg_bin = name, dsn, pg_bin

    def setup(self, worker) -> None:
        self._local, self._lock, self._workers = threading.local(), threading.Lock(), []

    def bench_worker(self) -> Worker:
        w = getattr(self._local, "worker", None)
        if w is None:
            w = self._local.worker = Worker(self.dsn, self.pg_bin)
            with self._lock:
                self._workers.append(w)
        return w

    def teardown(self, worker) -> None:
        with self._lock:
            workers, self._workers = self._workers, []
        for w in workers:
            w.close()


def _run(plugin: str, job: Job) -> dict:
    return get_worker().plugins[plugin].bench_worker().run(job)


@contextmanager
def connect(address: str, workers: int):
    """A client of the cluster at `address` ("local": a LocalCluster of `workers` processes, closed after)."""
    if address == "local":
        from rollup.servers import service_account

        service_account()  # created here once: workers creating it at the same time race on /etc/passwd
        # memory_limit=0: the nanny must not kill a worker mid-run (its servers would outlive it until the janitor)
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                          memory_limit=0, silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
            yield client
        return
    if not ADDRESS.fullmatch(address):
        raise ClusterError(f"--cluster {address!r}: expected 'local' or a scheduler's address like tcp://HOST:8786")
    probe(address)  # a deadline and a handshake first: the Client trusts whatever answers (handshake.py)
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"--cluster {address}: no Dask scheduler answers there ({' '.join(str(exc).split())[:160]})")
    with client:
        try:
            client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS)
        except TimeoutError:
            raise ClusterError(f"--cluster {address}: no worker joined the scheduler within {WAIT_FOR_WORKERS} s")
        yield client


def threads(client: Client) -> int:
    return max(1, sum(client.nthreads().values()))


def run_on_cluster(jobs: list[Job], address: str, workers: int, *, dsn: str | None = None, pg_bin: str | None = None,
                   on_done: Callable[[Job, dict], None],
                   stop: Callable[[dict], bool] | None = None) -> list[dict | None]:
    """Every job's verdict, in the order of `jobs`, as `bench.orchestrate.batch.run_jobs` gives them: as many in flight as
    the cluster has threads (counted again as workers come and go), each result handed to `on_done` as it comes."""
    results: list[dict | None] = [None] * len(jobs)
    if not jobs:
        return results
    with connect(address, workers) as client:
        name = f"rollup-bench-{uuid.uuid4().hex[:12]}"  # this batch's own: others may share the cluster
        try:
            client.register_plugin(BenchPlugin(name, dsn, pg_bin), name=name)
        except (ImportError, AttributeError) as exc:
            raise ClusterError(f"--cluster {address}: the Dask workers cannot load the bench ({exc}); install "
                               "rollup-bench in their environment")
        try:
            todo, running, stopped = iter(enumerate(jobs)), {}, False
            pending = as_completed()

            def top_up() -> None:
                while not stopped and len(running) < threads(client) and (nxt := next(todo, None)):
                    future = client.submit(_run, name, nxt[1], key=f"{name}-{nxt[0]}", pure=False)
                    running[future.key] = nxt[0]
                    pending.add(future)

            top_up()
            for future in pending:
                i = running.pop(future.key)
                try:
                    results[i] = future.result()
                except Exception as exc:  # noqa: BLE001 (the worker died under it: KilledWorker; or the scheduler went)
                    results[i] = {"error": f"the Dask worker running it failed: {type(exc).__name__}: "
                                           f"{' '.join(str(exc).split())[:200]}", "code": 2}
                on_done(jobs[i], results[i])
                stopped = stopped or bool(stop and stop(results[i]))
                top_up()
        finally:
            try:
                client.unregister_worker_plugin(name)  # teardown: every worker stops the servers it started
            except Exception:  # noqa: BLE001, S110
                pass  # a LocalCluster's workers stop theirs as they close; a remote worker's go with its process
    return results
