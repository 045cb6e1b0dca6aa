"""Live mode: open-loop writers and ticks running at once, on a shortened wall-clock period.

Writers send the spec's mix at a fixed rate whatever the server's speed (open loop), and each write's latency is
measured from when it was due, not when it was sent, so a stalled server cannot hide its backlog (coordinated
omission). Every `period` wall seconds the tick thread moves the simulated clock 5 minutes on and runs a tick;
a tick that overruns its period delays the next one, as a scheduler's would.
"""

from __future__ import annotations

import copy
import math
import threading
import time

import numpy as np

from bench.capacity.lane import Lane
from bench.capacity.world import TICK


def _writer(lane: Lane, work, due: list[float], latencies: list[float], errors: list[str], stop) -> None:
    with lane.db.connect() as conn:
        for at in due:
            if stop.is_set():
                return
            delay = at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            try:
                with conn.transaction():
                    work.batch(conn, 1)
            except Exception as exc:  # a failed write is counted, not fatal: the figure says how many
                errors.append(f"{type(exc).__name__}: {exc}")
            latencies.append(time.perf_counter() - at)


def live_point(lane: Lane, rate: float, period: float, ticks: int, warmup: int, writers: int) -> tuple[list[dict], dict]:
    """Run `warmup + ticks` ticks with writers at `rate` writes/s; return the tick records and writer figures."""
    total = warmup + ticks
    t0 = time.perf_counter() + 0.2
    n_ops = int(rate * period * total)
    due = [t0 + i / rate for i in range(n_ops)]
    stop = threading.Event()
    lats: list[list[float]] = [[] for _ in range(writers)]
    errors: list[str] = []
    threads = []
    for j in range(writers):
        work = copy.copy(lane.work)  # its own draws and task ids; the world's arrays are shared read-only
        work.rng = np.random.default_rng([lane.work.rng.integers(1 << 30), j])
        work.next_task = lane.work.next_task + (j + 1) * 10**9
        threads.append(threading.Thread(target=_writer, args=(lane, work, due[j::writers], lats[j], errors, stop),
                                        daemon=True))
    for t in threads:
        t.start()
    records, n, last = [], 0, -1
    try:
        while n < total:
            delay = t0 + (n + 1) * period - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            record = lane.tick(periods=n - last)  # the simulated clock skips the periods a slow tick overran
            last = n
            rho = record["d_ms"] / 1000 / period
            record.update(tick=n, warmup=n < warmup, rate_per_s=rate, rho=rho,
                          lag_s=record["watermark_lag_s"] + rho * TICK.total_seconds())
            records.append(record)
            n += max(1, math.ceil((time.perf_counter() - t0) / period) - n)  # skip the periods it overran
    finally:
        stop.set()
        for t in threads:
            t.join()
    done = np.array([x for lat in lats for x in lat]) * 1000
    return records, {"writes": int(done.size), "errors": len(errors), "first_error": errors[0] if errors else None,
                     "p50_ms": float(np.percentile(done, 50)) if done.size else None,
                     "p99_ms": float(np.percentile(done, 99)) if done.size else None}
