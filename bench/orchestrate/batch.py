"""Many scenario runs at once — a gate's scenarios, a seed sweep, either on several servers — as a `Batch` of
requests with one scheduling loop over an `Executor`: this process (one job), a pool of spawned processes
(`Pool`), or a Dask cluster (bench/orchestrate/cluster.py). Each worker starts its own servers (a restart fault
in one run must not restart another's) and keeps one migrated template per target there, which every run
clones. The results come back in the order the runs were asked for, whatever the executor, and each run's
history does not depend on it."""

from __future__ import annotations

import multiprocessing as mp
import re
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import util
from pathlib import Path
from typing import Any, Protocol

from bench.judge.record import Verdict
from bench.orchestrate.request import NoVerdict, RunRequest, ServerSpec
from bench.workload.bounds import SEEDS_MAX

Result = Verdict | NoVerdict
REPLACEABLE = ("embedded", "local")  # servers a worker starts itself, and so can start again when one dies


class Worker:
    """Runs requests one after another on servers it starts when first needed and stops at close(); a server of
    its own that died is replaced before the next request."""

    def __init__(self) -> None:
        self.servers: dict[ServerSpec, tuple] = {}  # spec -> (server, templates)

    def _server(self, spec: ServerSpec) -> tuple:
        from rollup.migrations import Templates

        kept = self.servers.get(spec)
        if kept and kept[0].backend in REPLACEABLE and not kept[0].alive():
            self._drop(spec)  # its server died between runs (killed, crashed): a new one, and the batch goes on
        if spec not in self.servers:
            server = spec.start()
            self.servers[spec] = (server, Templates(server))
        return self.servers[spec]

    def run(self, req: RunRequest, on_progress: Callable | None = None) -> Result:
        """The request's verdict, or what went wrong as the CLI would say it."""
        from bench.orchestrate import content
        from bench.orchestrate.errors import ServerLost, failure
        from bench.orchestrate.execute import run_scenario

        try:
            req.scenario.load(req.seed)  # a bad scenario is said before any server starts
            target = content.target_of(req)
            server, templates = self._server(req.server)
            t0 = time.perf_counter()
            ran = content.scratch(req)
            v = run_scenario(server, ran, target=target, templates=templates, on_progress=on_progress)
            v.wall_seconds = round(time.perf_counter() - t0, 3)  # for JUnit's time: informative only
            return content.returned(req, ran, v)
        except Exception as exc:
            error, code = failure(exc) or (traceback.format_exc(), 2)  # a bug: its traceback, to be reported
            if isinstance(exc, ServerLost) and req.server in self.servers:
                self._drop(req.server)  # the next run starts a new server; this one was interrupted, not judged
                return NoVerdict(req, f"run interrupted: {error}", code)
            return NoVerdict(req, error, code)

    def _drop(self, spec: ServerSpec) -> None:
        """Forget a server that died: what is left of it stopped and its folder removed."""
        server, _ = self.servers.pop(spec)
        try:
            server.stop()
        except Exception:  # noqa: BLE001, S110 (a dead server's stop may fail any way; its guard finishes it)
            pass

    def close(self) -> None:
        for server, templates in self.servers.values():
            try:
                templates.drop()
            except Exception:
                pass  # the server is stopped next: its databases go with it
            server.stop()
        self.servers.clear()


class Executor(Protocol):
    """Where a batch's runs are carried out. `slots()`: how many may be in flight now; `submit` starts one and
    gives a handle; `done(handles)` waits until at least one has finished and yields (handle, result) pairs."""

    def slots(self) -> int: ...

    def submit(self, req: RunRequest) -> Any: ...

    def done(self, handles: list) -> Iterable[tuple[Any, Result]]: ...


@dataclass(eq=False)
class _Ran:
    """A handle on a run already carried out (hashed by identity, as a future is)."""

    result: Result


class Here:
    """One worker in this process: each request runs as it is submitted."""

    def __init__(self, moved: Callable[[str, int], None] | None = None):
        self.worker, self.moved = Worker(), moved

    def slots(self) -> int:
        return 1

    def submit(self, req: RunRequest) -> _Ran:
        on_progress = (lambda at, run: self.moved(req.name, at)) if self.moved else None
        return _Ran(self.worker.run(req, on_progress))

    def done(self, handles: list) -> Iterator[tuple[Any, Result]]:
        for h in handles:
            yield h, h.result

    def close(self) -> None:
        self.worker.close()


_worker: Worker | None = None  # a pool process's own
_said = None  # its queue of (run, simulated instant) for the client's progress lines, or None


def _start(said) -> None:
    global _worker, _said
    from rollup.lifetime import worker_process

    worker_process()  # signals are the command's to handle; it dies with the command
    _worker, _said = Worker(), said
    util.Finalize(_worker, _worker.close, exitpriority=10)  # servers stopped when the pool shuts the worker down


def _run(req: RunRequest) -> Result:
    last = [0.0]

    def on_progress(at: int, run) -> None:  # at most once a second: the queue crosses processes
        if time.monotonic() - last[0] >= 1:
            last[0] = time.monotonic()
            _said.put((req.name, at))

    return _worker.run(req, on_progress if _said is not None else None)


class Pool:
    """`workers` spawned processes, each taking the next request as it finishes one; with `moved`, told the
    simulated time each run has reached while waiting."""

    def __init__(self, workers: int, moved: Callable[[str, int], None] | None = None):
        from rollup.servers import service_account

        service_account()  # created here once: workers creating it at the same time race on /etc/passwd
        ctx = mp.get_context("spawn")
        self.workers, self.moved = workers, moved
        self.manager = ctx.Manager() if moved else None
        self.said = self.manager.Queue() if self.manager else None
        self.pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_start, initargs=(self.said,))

    def slots(self) -> int:
        return self.workers

    def submit(self, req: RunRequest):
        return self.pool.submit(_run, req)

    def done(self, handles: list) -> Iterator[tuple[Any, Result]]:
        while True:
            finished, _ = wait(handles, timeout=1 if self.said else None, return_when=FIRST_COMPLETED)
            while self.said is not None and not self.said.empty():
                self.moved(*self.said.get())
            if finished:
                break
        for future in finished:
            yield future, future.result()

    def abort(self) -> None:
        """Interrupted: the workers are stopped, not waited for (one may wait on a call only its deadline ends)."""
        from rollup.lifetime import stop_pool

        stop_pool(self.pool)

    def close(self) -> None:
        self.pool.shutdown()
        if self.manager:
            self.manager.shutdown()


@dataclass
class Batch:
    """Requests run over an executor by one loop: as many in flight as it has slots, started in order, none
    started after `stop(result)` said so (those running finish, so every request before the first that stopped
    has a result; those never started get None)."""

    requests: list[RunRequest]

    def run(self, executor: Executor, on_done: Callable[[RunRequest, Result], None] | None = None,
            stop: Callable[[Result], bool] | None = None) -> list[Result | None]:
        results: list[Result | None] = [None] * len(self.requests)
        todo, running, stopped = iter(enumerate(self.requests)), {}, False
        while True:
            while not stopped and len(running) < executor.slots() and (nxt := next(todo, None)):
                running[executor.submit(nxt[1])] = nxt[0]
            if not running:
                return results
            for handle, result in executor.done(list(running)):
                i = running.pop(handle)
                results[i] = result
                if on_done:
                    on_done(self.requests[i], result)
                stopped = stopped or bool(stop and stop(result))


def run_requests(requests: list[RunRequest], workers: int = 1, on_done: Callable | None = None,
                 stop: Callable | None = None, moved: Callable[[str, int], None] | None = None) -> list[Result | None]:
    """Every request's result, in order: one worker runs them in this process; more, in spawned processes.
    `moved(run, at)`: the simulated instant a run has reached, now and then."""
    if workers <= 1 or len(requests) <= 1:
        executor = Here(moved)
    else:
        executor = Pool(min(workers, len(requests)), moved)
    try:
        return Batch(requests).run(executor, on_done, stop)
    except BaseException:
        getattr(executor, "abort", lambda: None)()
        raise
    finally:
        executor.close()


def no_verdicts(results: list[Result | None]) -> list[NoVerdict]:
    """The runs that gave no verdict (a run never started is none)."""
    return [r for r in results if isinstance(r, NoVerdict)]


def verdicts(results: list[Result | None]) -> list[Verdict]:
    return [r for r in results if isinstance(r, Verdict)]


def parse_seeds(text: str) -> list[int]:
    """'1-200', '3', '1,5,9-12': the seeds, in order, without repeats."""
    seeds: dict[int, None] = {}  # ordered, without repeats
    for part in text.split(","):
        part = part.strip()
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not m:
            raise ValueError(f"--seeds {text!r}: expected seeds like 1-200 or 1,5,9-12")
        span = range(int(m[1]), int(m[2] or m[1]) + 1)
        if not span:
            raise ValueError(f"--seeds {text!r}: the range {part} is empty")
        if span[-1] >= 2**63 or len(seeds) + len(span) > SEEDS_MAX:  # counted before any list is built
            raise ValueError(f"--seeds {text!r}: at most {SEEDS_MAX} seeds, each below 2^63 (docs/scenarios.md#bounds)")
        seeds.update(dict.fromkeys(span))
    return list(seeds)


def stem_dir(report_dir: Path, pg: str, pgs: list[str]) -> Path:
    """Where one server's runs write: a folder each when a matrix spans several servers (same file names)."""
    return report_dir / pg if len(pgs) > 1 else report_dir
