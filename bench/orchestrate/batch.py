"""Many scenario runs at once — a gate's scenarios, a seed sweep, either on several servers — spread over worker
processes. Each worker starts its own servers (a restart fault in one run must not restart another's) and keeps
one migrated template per target there, which every run clones. The verdicts come back in the order the runs
were asked for, whatever the number of workers, and each run's history does not depend on it."""

from __future__ import annotations

import multiprocessing as mp
import re
import time
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, replace
from multiprocessing import util
from pathlib import Path


@dataclass(frozen=True)
class Job:
    """One scenario run: the scenario file, on a target and a server, with its seed (None: the scenario's)."""

    scenario: Path
    target: str
    pg: str = "embedded"
    seed: int | None = None
    report_dir: Path = Path("reports")
    read_side: str | None = None
    hint: str = ""  # the replay line's template ({history}, {target}); empty: replay the history
    expect: dict | None = None  # expectation fields overriding the scenario's (a project's configuration)
    accept: tuple[str, ...] | None = None  # a baseline of catalogue ids the divergence is judged against


class JobError(RuntimeError):
    """A run (`job`) that gave no verdict: code 1 for the target's failure (a migration), 2 for bad input or
    environment. Carried back from a worker as text, since not every exception survives pickling."""

    def __init__(self, job: Job, message: str, code: int):
        super().__init__(message)
        self.job, self.code = job, code


REPLACEABLE = ("embedded", "local")  # servers a worker starts itself, and so can start again when one dies


class Worker:
    """Runs jobs one after another on servers it starts when first needed and stops at close(); a server of its own
    that died is replaced before the next job."""

    def __init__(self, dsn: str | None = None, pg_bin: str | None = None):
        self.dsn, self.pg_bin = dsn, pg_bin
        self.servers: dict[str, tuple] = {}  # pg -> (server, templates)

    def _server(self, pg: str) -> tuple:
        from rollup.migrations import Templates
        from rollup.servers import start_server

        if pg in self.servers and self.servers[pg][0].backend in REPLACEABLE and not self.servers[pg][0].alive():
            self._drop(pg)  # its server died between runs (killed, crashed): a new one, and the batch goes on
        if pg not in self.servers:
            server = start_server(pg, dsn=self.dsn, pg_bin=self.pg_bin)
            self.servers[pg] = (server, Templates(server))
        return self.servers[pg]

    def run(self, job: Job) -> dict:
        """The job's verdict, or {"error", "code"}: what went wrong, as the CLI would say it."""
        from bench.orchestrate.errors import ServerLost, failure
        from bench.orchestrate.execute import run_scenario
        from bench.workload.scenario import load

        try:
            sc = load(job.scenario)
            if job.seed is not None:
                sc = replace(sc, seed=job.seed)
            server, templates = self._server(job.pg)
            t0 = time.perf_counter()
            v = run_scenario(server, job.scenario, job.target, job.report_dir, sc=sc, text=job.scenario.read_text(),
                             hint=job.hint, templates=templates, read_side=job.read_side, expect=job.expect,
                             accept=job.accept)
            v["wall_seconds"] = round(time.perf_counter() - t0, 3)  # for JUnit's time: informative only
            return v
        except Exception as exc:
            error, code = failure(exc) or (traceback.format_exc(), 2)  # a bug: its traceback, to be reported
            if isinstance(exc, ServerLost) and job.pg in self.servers:
                self._drop(job.pg)  # the next run starts a new server; this one was interrupted, not judged
                return {"error": f"run interrupted: {error}", "code": code, "interrupted": True}
            return {"error": error, "code": code}

    def _drop(self, pg: str) -> None:
        """Forget a server that died: what is left of it stopped and its folder removed."""
        server, _ = self.servers.pop(pg)
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


_worker: Worker | None = None  # a worker process's own


def _start(dsn: str | None, pg_bin: str | None) -> None:
    global _worker
    from rollup.lifetime import worker_process

    worker_process()  # signals are the command's to handle; it dies with the command
    _worker = Worker(dsn, pg_bin)
    util.Finalize(_worker, _worker.close, exitpriority=10)  # servers stopped when the pool shuts the worker down


def _run(job: Job) -> dict:
    return _worker.run(job)


def run_jobs(jobs: list[Job], workers: int = 1, *, dsn: str | None = None, pg_bin: str | None = None,
             on_done: Callable[[Job, dict], None] | None = None,
             stop: Callable[[dict], bool] | None = None) -> list[dict | None]:
    """Every job's verdict, in the order of `jobs`. One worker runs them in this process; more run them in
    spawned processes, each taking the next job as it finishes one (the longest first, if listed first).
    A job without a verdict gets {"error", "code"} in its place (see `failed_jobs`), so the others still report.
    `stop(result)` true: no job is started after that one; those running finish, so every job before the first
    that stopped has a result, and the jobs never started get None."""
    on_done = on_done or (lambda job, v: None)
    results: list[dict | None] = [None] * len(jobs)
    if workers <= 1 or len(jobs) <= 1:
        worker = Worker(dsn, pg_bin)
        try:
            for i, job in enumerate(jobs):
                results[i] = worker.run(job)
                on_done(job, results[i])
                if stop and stop(results[i]):
                    break
        finally:
            worker.close()
    else:
        from rollup.lifetime import stopped_if_interrupted
        from rollup.servers import service_account

        service_account()  # created here once: workers creating it at the same time race on /etc/passwd
        with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=mp.get_context("spawn"), initializer=_start,
                                 initargs=(dsn, pg_bin)) as pool, stopped_if_interrupted(pool):
            todo, running, stopped = iter(enumerate(jobs)), {}, False
            while True:
                # as many in flight as there are workers, in order: a job is submitted only while none has stopped
                while not stopped and len(running) < workers and (nxt := next(todo, None)):
                    running[pool.submit(_run, nxt[1])] = nxt[0]
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    i = running.pop(future)
                    results[i] = future.result()
                    on_done(jobs[i], results[i])
                    stopped = stopped or bool(stop and stop(results[i]))
    return results


def failed_jobs(jobs: list[Job], results: list[dict | None]) -> list[JobError]:
    """The jobs that gave no verdict, each as the error it raised in its worker (a job never started is none)."""
    return [JobError(job, r["error"], r["code"]) for job, r in zip(jobs, results) if r is not None and "error" in r]


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
        seeds.update(dict.fromkeys(span))
    return list(seeds)


def stem_dir(report_dir: Path, pg: str, pgs: list[str]) -> Path:
    """Where one server's runs write: a folder each when a matrix spans several servers (same file names)."""
    return report_dir / pg if len(pgs) > 1 else report_dir
