"""How a long command says where it stands: a `Reporter` told what runs (`started`), the simulated time one run
has reached (`moved`), each run of a batch as it ends (`finished`). The terminal's live bar implements it
(bench/cli/show.py); so does `Lines`, for a log (stdout not a terminal: CI), which prints a plain line at least
every `every` seconds — what runs, the simulated time reached, runs done of total — from a heartbeat thread, so
a line comes even while a run's tick takes long. Its clock is injected, for tests."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Protocol, TextIO

from rollup.clock import from_us

EVERY = 14.0  # seconds between a log's progress lines: with the heartbeat's wake-up (≤ 1 s), at most 15 s apart


class Reporter(Protocol):
    def started(self, what: str, total: int = 1) -> None: ...

    def moved(self, at: int, stats: str = "", run: str = "") -> None: ...

    def finished(self, name: str, ok: bool) -> None: ...


class Lines:
    """Plain progress lines on `out`: one when something happened and `every` seconds have passed since the
    last line, or when nothing happened for that long (the heartbeat)."""

    def __init__(self, out: TextIO, every: float | None = None, clock: Callable[[], float] = time.monotonic):
        env = os.environ.get("ROLLUP_BENCH_PROGRESS_EVERY")
        self.out, self.clock = out, clock
        self.every = every if every is not None else float(env) if env else EVERY
        self.lock = threading.Lock()
        self.what, self.total, self.done, self.failed = "", 1, 0, 0
        self.sim: dict[str, int] = {}  # run -> the simulated instant it has reached (µs)
        self.stats = ""
        self.t0 = self.last = clock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def started(self, what: str, total: int = 1, *, afresh: bool = False) -> None:
        """A (new) piece of work and how many runs it holds; `afresh`: its runs counted from none done."""
        with self.lock:
            self.what, self.total = what, total
            if afresh:
                self.done = self.failed = 0
        self.line(force=True)

    def moved(self, at: int, stats: str = "", run: str = "") -> None:
        with self.lock:
            self.sim[run] = at
            self.stats = stats or self.stats
        self.line()

    def finished(self, name: str, ok: bool) -> None:
        with self.lock:
            self.done += 1
            self.failed += not ok
            self.sim.pop(name, None)
            self.last_run = name
        self.line()

    def text(self) -> str:
        with self.lock:
            parts = [f"[{self.clock() - self.t0:6.0f} s] {self.what}"]
            if self.total > 1:
                parts.append(f"{self.done} of {self.total} run(s) done" + (f", {self.failed} failed"
                                                                          if self.failed else ""))
            if self.sim:
                at = min(self.sim.values())
                parts.append(f"simulated {from_us(at):%Y-%m-%d %H:%M}Z" + (" (the furthest behind)"
                                                                           if len(self.sim) > 1 else ""))
            if self.stats and self.total == 1:
                parts.append(self.stats)
        return " · ".join(parts)

    def line(self, force: bool = False) -> bool:
        """Print a line if one is due; whether it did."""
        now = self.clock()
        if not force and now - self.last < self.every:
            return False
        self.last = now
        print(self.text(), file=self.out, flush=True)
        return True

    def __enter__(self) -> Lines:
        def beat() -> None:
            while not self._stop.wait(min(1.0, max(self.every / 4, 0.05))):
                self.line()

        self._thread = threading.Thread(target=beat, name="progress-lines", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()


def run_callback(reporter: Reporter, name: str = "") -> Callable:
    """A runner's progress callback (at, run) feeding the reporter."""
    def on_progress(at: int, r) -> None:
        reporter.moved(at, f"{sum(r.ops.values())} ops · {r.ticks} ticks · {len(r.checks)} checks", name)

    return on_progress
