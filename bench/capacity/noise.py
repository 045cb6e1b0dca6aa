"""The machine's own speed through a run: a fixed piece of pure CPU work, timed before every repetition of every
sweep point, on the core the run (and its server, pinned with it) uses.

On a shared virtual machine the same instructions take a different time from one minute to the next (here a
30-second window's median of this work ranged 38–47 ms over four idle minutes, single samples 28–71 ms). Run-to-run
comparisons need to know how much of a difference is the machine: the fixed work's median ratio between two runs,
sweep by sweep since the speed wanders within a run too, is that drift. The work is Python, not SQL, so it
measures the core and nothing of the target or the server."""

from __future__ import annotations

import time

from bench.capacity import stats

SLOW = 1.3  # a sample this many times the run's fastest fell in one of the machine's slow spells
LOOP = 100_000  # about 5 ms here: short beside a sweep point, long beside the timer's resolution
BURST = 3  # samples a call: one is at the mercy of a single scheduling hiccup


def fixed_work_ms() -> float:
    t0 = time.perf_counter()
    x = 0
    for i in range(LOOP):
        x += i * i
    return (time.perf_counter() - t0) * 1000


class Meter:
    def __init__(self) -> None:
        self.samples: list[tuple[str, float]] = []  # (sweep, ms)

    def sample(self, sweep: str) -> None:
        self.samples += [(sweep, fixed_work_ms()) for _ in range(BURST)]

    def summary(self) -> dict | None:
        """{median, min, max, n, spread, slow, by_sweep} in ms: spread is (max − min) ÷ median, the fixed work's
        own scatter; slow the share of samples over SLOW × the fastest (this machine's vCPUs run the same work
        at two speeds about 1.7× apart, in slow spells of milliseconds to most of a second); by_sweep the median
        during each sweep."""
        if not self.samples:
            return None
        s = stats.spread([ms for _, ms in self.samples])
        by: dict[str, list[float]] = {}
        for sweep, ms in self.samples:
            by.setdefault(sweep, []).append(ms)
        slow = sum(ms > SLOW * s["min"] for _, ms in self.samples) / len(self.samples)
        return s | {"spread": (s["max"] - s["min"]) / s["median"], "slow": slow,
                    "by_sweep": {sweep: stats.spread(v)["median"] for sweep, v in by.items()}}
