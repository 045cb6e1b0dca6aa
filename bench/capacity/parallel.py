"""Each server's sweeps in a process of its own, pinned to a core of its own.

A capacity run over two servers on two cores would otherwise leave one core idle most of the time: a tick is
one backend's work. Pinning the driver before it starts its server pins the postmaster and every backend with it
(affinity is inherited), so the two servers never compete for a core and their measurements stay comparable run
to run. Processes, not threads: a thread of the other server's driver holding the GIL would add its switch
interval to a 2 ms tick.

The processes start each sweep together. Left to drift, one server's sweep would share the disk with whatever
the other was doing at that moment (a 10M-row bulk load one run, a writer sweep the next): the same point then
measures differently run to run. In step, each sweep meets the same neighbour every run.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from bench.capacity.spec import Reach

SPLITTABLE = ("embedded", "local")  # servers the run starts itself, so their processes can be pinned
SWEEPS = ("keys", "history", "density", "crossover", "rate", "writers", "faults")


def splittable(pgs: list[str]) -> bool:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    return 1 < len(pgs) <= cores and all(p in SPLITTABLE for p in pgs)


@dataclass(frozen=True)
class Share:
    """One server's share of a run: `kind` is the run's class (CapacityRun), handed over rather than imported
    so that this module stays below the one that calls it; the core its process is pinned to."""

    kind: type
    spec: object
    targets: list[str]
    pg: str
    baseline: str | None
    pg_bin: str | None
    core: int


def _one_server(share: Share, progress, barrier) -> tuple[dict, list[dict], dict]:
    """One server's share of a run, in its own process."""
    kind, spec, targets, pg, baseline, pg_bin, core = (share.kind, share.spec, share.targets, share.pg,
                                                       share.baseline, share.pg_bin, share.core)
    os.sched_setaffinity(0, {core})
    run = kind(spec, targets, [pg], baseline, Reach(pg_bin=pg_bin),
                      on_progress=lambda what, units: progress.put((pg, what, units)))
    run.on_server = lambda server: progress.put((pg, None, sorted(_postmaster_cores(server))))
    synced: dict[str, tuple[float, float]] = {}  # sweep -> wall times at the barrier: arrived, left

    def sync(sweep: str) -> None:
        arrived = time.time()
        try:
            barrier.wait()
        except threading.BrokenBarrierError:  # another server's process failed: go on alone
            pass
        synced[sweep] = (arrived, time.time())

    run.sync = sync
    try:
        results = run.execute()
    finally:
        barrier.abort()  # done or failed: never leave the others waiting for this process
    return results, run.ticks, {"core": core, "synced": synced}


def _postmaster_cores(server) -> set[int]:
    """The cores the server's postmaster may run on, read back: the proof the pin took."""
    try:
        pid = int((server.data_dir / "postmaster.pid").read_text().split()[0])
        return os.sched_getaffinity(pid)
    except (OSError, ValueError, AttributeError, IndexError):
        return set()


def run_split(run) -> dict:
    """run (a CapacityRun over several servers) as one pinned process per server; the results merged as if the
    run had measured them all, with each server's core and sweep times recorded."""
    cores = sorted(os.sched_getaffinity(0))
    ctx = mp.get_context("spawn")
    t0 = time.perf_counter()
    with ctx.Manager() as manager:
        progress = manager.Queue()
        barrier = manager.Barrier(len(run.pgs))
        pinned: dict[str, list[int]] = {}
        stop = threading.Event()

        def relay() -> None:
            while not stop.is_set():
                try:
                    pg, what, units = progress.get(timeout=0.2)
                except queue.Empty:
                    continue
                if what is None:
                    pinned[pg] = units
                else:
                    run.progress(f"{pg}: {what}" if what else "", units)

        thread = threading.Thread(target=relay, daemon=True)
        thread.start()
        try:
            from rollup.lifetime import stopped_if_interrupted, worker_process
            from rollup.servers import service_account

            service_account()  # created here once: drivers creating it at the same time race on /etc/passwd
            with ProcessPoolExecutor(len(run.pgs), mp_context=ctx, initializer=worker_process) as pool, \
                    stopped_if_interrupted(pool):
                futures = {pg: pool.submit(_one_server, Share(type(run), run.spec, run.targets, pg, run.baseline,
                                                              run.pg_bin, cores[i % len(cores)]), progress, barrier)
                           for i, pg in enumerate(run.pgs)}
                parts = {pg: f.result() for pg, f in futures.items()}
        finally:
            time.sleep(0.3)  # the last progress messages
            stop.set()
            thread.join()
    return merge(run, parts, pinned, time.perf_counter() - t0)


def merge(run, parts: dict[str, tuple[dict, list[dict], dict]], pinned: dict, elapsed: float) -> dict:
    first = next(iter(parts.values()))[0]
    out = {k: v for k, v in first.items()
           if k not in ("configs", "preload", "sweep_seconds", "flush_seconds", "failed_sweeps", "fixed_work")}
    out["elapsed_s"] = elapsed
    out["configs"] = [c for r, _, _ in parts.values() for c in r["configs"]]
    out["preload"] = {k: v for r, _, _ in parts.values() for k, v in (r.get("preload") or {}).items()}
    out["sweep_seconds"] = {pg: r["sweep_seconds"] for pg, (r, _, _) in parts.items()}
    out["flush_seconds"] = {pg: r.get("flush_seconds", {}) for pg, (r, _, _) in parts.items()}
    out["fixed_work"] = {pg: (r.get("fixed_work") or {}).get(pg) for pg, (r, _, _) in parts.items()}
    out["failed_sweeps"] = {f"{name} ({pg})": why for pg, (r, _, _) in parts.items()
                            for name, why in (r.get("failed_sweeps") or {}).items()}
    out["machine"] = {**first["machine"], "split": {pg: {"core": meta["core"], "postmaster_cores": pinned.get(pg),
                                                         "synced": meta.get("synced", {})}
                                                    for pg, (_, _, meta) in parts.items()}}
    for name in SWEEPS:
        if not any(name in r for r, _, _ in parts.values()):
            continue
        out[name] = {label: v for r, _, _ in parts.values() for label, v in (r.get(name) or {}).items()}
    run.ticks = [t for _, ticks, _ in parts.values() for t in ticks]
    return out

