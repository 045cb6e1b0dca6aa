"""The nemesis schedule of a generated scenario (`[faults]`, `[cover]`): when each fault of the registry
(bench/workload/faults.py) strikes. What a strike becomes is bench/workload/strikes.py's.

Fault times and the content of late transactions come from a stream of their own (seeded from the scenario's
seed), so the workload around the faults is the one the seed draws without them. Every fault is operations in
the stream — a held transaction's begin … commit, a lock and a tick cancelled at it, a restart, a backfill, a
pause — so the history holds them and `replay` imposes them again, with nothing decided by wall-clock luck: a
cancelled tick is first seen waiting on its lock (`wait_blocked`).
"""

from __future__ import annotations

import random

from bench.workload.faults import BY_NAME, ENQUEUED, KINDS, LEAD, LOCK_WAIT_AFTER, TICKING, swarm
from bench.workload.strikes import Strikes
from rollup.pipeline import ALLOWANCE, CATCH_UP
from rollup.units import DAY, MINUTE, US


class Schedule(Strikes):
    def __init__(self, sc, start: int, end: int, quiet_before: int, quiet_after: int):
        f = sc.faults
        self.f, self.sc = f, sc
        self.rng = random.Random(f"{sc.seed}:faults")
        rates = swarm(sc.seed, f.rates) if f.swarm else f.rates  # swarm: a seed's own mix
        self.rates = rates
        self.events: list[tuple[int, str, object]] = []
        long_: tuple[int, int] | None = None
        self.tick_every = int(sc.pipeline.tick_every.total_seconds() * US)
        for kind in KINDS:  # a Poisson process per kind, each from a stream of its own: dropping one kind from a
            times = random.Random(f"{sc.seed}:faults:{kind}")  # scenario leaves the others' times as they were
            t = start
            while rates[kind] > 0:
                t += int(times.expovariate(rates[kind]) * DAY)
                if t >= end:
                    break
                if kind == "pause":
                    self.events.append((t, kind, t + self._span(f.pause_length, times)))
                elif kind == "long_pause":  # one a run
                    long_ = self._long_pause(t, times, start, end, quiet_before)
                    break
                else:
                    self.events.append((t, kind, None))
        if sc.cover.long_pauses and long_ is None:  # one the rates did not draw, placed by a stream of its own
            times = random.Random(f"{sc.seed}:cover:long_pause")
            long_ = self._long_pause(start + int(times.random() * (end - start)), times, start, end, quiet_before)
        if long_:  # the long pause alone: shorter ones overlapping it would only lengthen it past its range
            self.events = [e for e in self.events if e[1] != "pause" or (e[0], e[2]) == long_
                           or e[2] <= long_[0] or e[0] >= long_[1]]
        self.events.sort(key=lambda e: (e[0], KINDS.index(e[1])))
        self.quiet_before, self.quiet_after = quiet_before, quiet_after
        # Pauses (and overlapping runs of them) end early enough for the ticks to catch up before the last check.
        for t0, t1 in self.stops():
            latest = end - quiet_before - self.catch_up(t1 - t0)
            if t1 > latest:
                self.events = [(t, k, min(u, latest) if k == "pause" and t0 <= t < t1 else u)
                               for t, k, u in self.events]
        self.events = [e for e in self.events if e[1] != "pause" or e[2] > e[0]]
        # Nothing ticks while the scheduler is paused: the nemesis's own ticks wait with it.
        stops = self.stops()
        self.events = [e for e in self.events if e[1] not in TICKING or not any(
            a <= e[0] + BY_NAME[e[1]].tick_after and e[0] < b for a, b in stops)]
        self.open: dict[int, dict] = {}  # held session -> its late transaction, until it ends

    def _long_pause(self, t: int, rng: random.Random, start: int, end: int, quiet_before: int) -> tuple[int, int]:
        """A pause past the queue's retention from about `t`: moved earlier, not cut short, where it would end too
        late for the ticks to catch up before the last check."""
        length = self._span(self.f.long_pause_length, rng)
        at = max(start, min(t, end - quiet_before - self.catch_up(length) - length))
        self.events.append((at, "pause", at + length))
        return at, at + length

    def _span(self, span, rng: random.Random | None = None) -> int:
        lo, hi = (int(d.total_seconds() * US) for d in span)
        return (rng or self.rng).randint(lo, hi)

    def stops(self) -> list[tuple[int, int]]:
        """The spans without ticks: pauses, overlapping ones merged."""
        spans: list[list[int]] = []
        for t, kind, until in self.events:
            if kind != "pause":
                continue
            if spans and t <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], until)
            else:
                spans.append([t, until])
        return [(a, b) for a, b in spans]

    def catch_up(self, stopped: int) -> int:
        """How long the ticks take to catch up after `stopped` µs without one: the pipeline rolls up at most a
        day of lag per tick, and its watermark trails now by 5 minutes."""
        return (-(-stopped // CATCH_UP) + 2) * self.tick_every

    def spare(self, checks: list[int]) -> list[int]:
        """The checks no pause swallows: a check needs the ticks before it, caught up; the final one stays (the
        pauses end in time for it)."""
        swallowed = [(t0 - self.quiet_after, t1 + self.catch_up(t1 - t0) + self.quiet_before)
                     for t0, t1 in self.stops()]
        return [c for c in checks if c == checks[-1] or not any(a <= c < b for a, b in swallowed)]

    def cover(self, checks: list[int], start: int, end: int) -> None:
        """Place what `[cover]` asks for where it bites, whatever the seed draws: late transactions open across a
        tick that commit within the watermark's allowance (a tick without it loses them) or past it (B4's ground),
        and requeues. They fall in the run's first half, clear of the checks' quiet windows, the pauses and the
        restarts (which would end a late transaction). The cancels the rates drew before the last of them move
        after it: a cancelled tick stops a faithful target's ticks for good (L1), and a requeue's tick would find
        nothing to wait for."""
        c = self.sc.cover
        wanted = ["within"] * c.late_commits + ["past"] * c.late_commits_past + ["later"] * c.requeues
        wanted += ["equal"] * c.requeues_equal + ["earlier"] * c.requeues_earlier  # (none: the draws as before)
        if not wanted:
            return
        rng, every = random.Random(f"{self.sc.seed}:cover"), self.tick_every
        rng.shuffle(wanted)
        first = start + LEAD
        slot = max(every, (start + (end - start) // 2 - first) // len(wanted))
        busy = [(t - self.quiet_before, t + self.quiet_after) for t in checks] + self.stops()
        busy += [(t, t + 1) for t, kind, _ in self.events if kind == "restart"]
        placed = start
        for n, what in enumerate(wanted):
            t = first + n * slot + int(rng.random() * slot)
            tick = start + -(-(t - start) // every) * every  # the first tick at or after t
            if what in ENQUEUED:  # its first half after a tick, its tick 5 minutes later, between two of them
                lead, length = rng.randint(30 * US, max(30 * US, min(3 * MINUTE, every // 2))), LOCK_WAIT_AFTER
            else:
                length = (rng.randint(30 * US, ALLOWANCE - 30 * US) if what == "within"
                          else rng.randint(ALLOWANCE + MINUTE, 4 * ALLOWANCE))
                lead = -rng.randint(US, min(length, every) - US)  # it begins before the tick, commits after it
            while tick + lead + length < end and any(a - MINUTE < tick + lead + length and tick + lead < b + MINUTE
                                                     for a, b in busy):
                tick += every
            at = tick + lead
            if at + length >= end:
                continue  # no room left: the verdict's coverage check says what is missing
            busy.append((at, at + length))
            placed = max(placed, at + length)
            self.events.append((at, "requeue", what) if what in ENQUEUED
                               else (at, "late", {"latency": length, "commit": True}))
        self.events = [(t + placed - start, kind, u) if kind == "cancel" and t < placed else (t, kind, u)
                       for t, kind, u in self.events]
        self.events = [e for e in self.events if e[0] < end - self.quiet_before]
        self.events.sort(key=lambda e: (e[0], KINDS.index(e[1])))
