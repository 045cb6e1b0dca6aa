"""A batch's runs on a Dask cluster (dask.distributed): `--cluster tcp://HOST:8786`, an existing scheduler, or
`--cluster local`, a LocalCluster of `--jobs` worker processes on this machine, one thread each.

Each Dask worker keeps its own servers and templates, as a process of the pool does (`bench.orchestrate.batch.Worker`):
a WorkerPlugin gives every worker thread a Worker of its own (a restart fault in one run must not restart
another's server) and stops their servers at teardown — when the batch unregisters it, or the worker closes.
The workers must import rollup-bench (the same environment as here), nothing more: each request carries its
scenario's text and its target's and read side's files by digest (bench/orchestrate/content.py, the bytes sent
once per worker with the plugin), and what a run writes comes back to this machine's report folder."""

from __future__ import annotations

import logging
import re
import tempfile
import threading
import uuid
from collections.abc import Callable
from contextlib import contextmanager

import dask
from distributed import Client, LocalCluster, WorkerPlugin, as_completed, get_worker

from bench.orchestrate import content
from bench.orchestrate.batch import Batch, Result, Worker
from bench.orchestrate.errors import ClusterError
from bench.orchestrate.handshake import probe
from bench.orchestrate.request import NoVerdict, RunRequest

CONNECT_TIMEOUT = 10  # seconds for a scheduler to answer
WAIT_FOR_WORKERS = 60  # seconds for it to have at least one worker
ADDRESS = re.compile(r"[a-z][a-z0-9+.-]*://\S+")


class BenchPlugin(WorkerPlugin):
    """Per Dask worker: the batch's files put in its cache, and a bench Worker per thread that runs requests,
    each starting its servers when first needed."""

    def __init__(self, name: str, blobs: dict[str, bytes]):
        self.name, self.blobs = name, blobs

    def setup(self, worker) -> None:
        from rollup.lifetime import worker_process

        worker_process()  # signals are the command's to handle; it dies with the command
        self._local, self._lock, self._workers = threading.local(), threading.Lock(), []
        content.keep(self.blobs)

    def bench_worker(self) -> Worker:
        w = getattr(self._local, "worker", None)
        if w is None:
            w = self._local.worker = Worker()
            with self._lock:
                self._workers.append(w)
        return w

    def teardown(self, worker) -> None:
        with self._lock:
            workers, self._workers = self._workers, []
        for w in workers:
            w.close()


def _run(plugin: str, req: RunRequest) -> Result:
    return get_worker().plugins[plugin].bench_worker().run(req)


@contextmanager
def connect(address: str, workers: int):
    """A client of the cluster at `address` ("local": a LocalCluster of `workers` processes, closed after)."""
    if address == "local":
        from rollup.servers import service_account

        service_account()  # created here once: workers creating it at the same time race on /etc/passwd
        # memory_limit=0: the nanny must not kill a worker mid-run (its servers would outlive it until the janitor)
        # Dask's scratch folders in one of this command's own, removed however the command ends but by SIGKILL
        with tempfile.TemporaryDirectory(prefix="rollup-bench-dask-") as scratch, \
                dask.config.set({"temporary-directory": scratch}), \
                LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                             memory_limit=0, silence_logs=logging.ERROR, local_directory=scratch) as cluster, \
                Client(cluster) as client:
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


class Dask:
    """The executor over a cluster's workers: as many in flight as it has threads (counted again as workers come
    and go); requests shipped with their files, results landed in this machine's report folders."""

    def __init__(self, client: Client, name: str):
        self.client, self.name, self.pending, self.asked, self.count = client, name, as_completed(), {}, 0

    def slots(self) -> int:
        return threads(self.client)

    def submit(self, req: RunRequest):
        self.count += 1
        future = self.client.submit(_run, self.name, req, key=f"{self.name}-{self.count}", pure=False)
        self.asked[future.key] = req
        self.pending.add(future)
        return future.key

    def done(self, handles: list):
        future = next(self.pending)
        req = self.asked.pop(future.key)
        try:
            result = future.result()
        except Exception as exc:  # noqa: BLE001 (the worker died under it: KilledWorker; or the scheduler went)
            result = NoVerdict(req, f"the Dask worker running it failed: {type(exc).__name__}: "
                                    f"{' '.join(str(exc).split())[:200]}", 2)
        if not isinstance(result, NoVerdict):
            result = content.land(result, req.report_dir)
        yield future.key, result


def run_on_cluster(requests: list[RunRequest], address: str, workers: int, on_done: Callable | None = None,
                   stop: Callable | None = None) -> list[Result | None]:
    """Every request's result, in order, as `bench.orchestrate.batch.run_requests` gives them, on a cluster."""
    if not requests:
        return []
    blobs: dict[str, bytes] = {}
    shipped = [content.pack(r, blobs) for r in requests]
    with connect(address, workers) as client:
        name = f"rollup-bench-{uuid.uuid4().hex[:12]}"  # this batch's own: others may share the cluster
        try:
            client.register_plugin(BenchPlugin(name, blobs), name=name)
        except (ImportError, AttributeError) as exc:
            raise ClusterError(f"--cluster {address}: the Dask workers cannot load the bench ({exc}); install "
                               "rollup-bench in their environment")
        try:
            results = Batch(shipped).run(Dask(client, name), on_done, stop)
        except BaseException:
            if address == "local":  # interrupted: closing the cluster ends its workers, their servers' guards
                raise  # stop those (a teardown now would pull the servers from under the running requests)
            _teardown(client, name)
            raise
        _teardown(client, name)
        return results


def _teardown(client: Client, name: str) -> None:
    try:
        client.unregister_worker_plugin(name)  # teardown: every worker stops the servers it started
    except Exception:  # noqa: BLE001, S110
        pass  # a LocalCluster's workers stop theirs as they close; a remote worker's go with its process
