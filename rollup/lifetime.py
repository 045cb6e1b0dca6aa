"""How long the bench's processes live: the command's own process decides, its workers follow.

A signal (SIGINT, SIGTERM, SIGHUP) is the command's to handle: it stops its workers and the servers it started,
says so on one line, and exits 128 + the signal's number (bench/cli/signals.py). Workers therefore ignore SIGINT
(Ctrl-C reaches the whole process group; a worker that raised KeyboardInterrupt mid-job would print its
traceback), die at once on SIGTERM (their servers' guards, rollup/guard.py, stop those), and end themselves when
the command's process is gone, whatever killed it. Nothing here imports the bench.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from contextlib import contextmanager

PARENT_POLL = 1.0  # seconds between a worker's looks at whether its parent is alive
REAP_WITHIN = 10.0  # seconds a terminated worker gets to exit before SIGKILL


def worker_process() -> None:
    """In a worker process (a pool's initializer, a Dask worker's plugin): leave signals to the command's process,
    and die with it."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # A worker stopped mid-job (its cluster closing) has psycopg log each connection its servers' stop broke; the
    # job's own outcome, if any, is what reports it.
    logging.getLogger("psycopg").setLevel(logging.ERROR)
    parent = os.getppid()

    def watch() -> None:  # a parent that dies leaves this process to init: getppid() changes
        while os.getppid() == parent:
            time.sleep(PARENT_POLL)
        os.kill(os.getpid(), signal.SIGKILL)  # the servers' guards clean up after it

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def stop_processes(processes) -> None:
    """Terminate worker processes (multiprocessing.Process) and wait for them, SIGKILL past REAP_WITHIN."""
    processes = [p for p in processes if p.is_alive()]
    for p in processes:
        try:
            p.terminate()
        except (OSError, ValueError):
            pass
    deadline = time.monotonic() + REAP_WITHIN
    for p in processes:
        p.join(max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join(REAP_WITHIN)


def stop_pool(pool) -> None:
    """A concurrent.futures ProcessPoolExecutor ended now, its running jobs abandoned: a command interrupted does
    not wait for them (a job may be waiting on a database call that only its deadline ends)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())  # the executor keeps them by pid
    pool.shutdown(wait=False, cancel_futures=True)
    stop_processes(processes)


@contextmanager
def stopped_if_interrupted(pool):
    """`with ProcessPoolExecutor(…) as pool, stopped_if_interrupted(pool):` — whatever ends the block early (a
    signal, an error) stops the pool's workers instead of waiting for their jobs."""
    try:
        yield pool
    except BaseException:
        stop_pool(pool)
        raise
