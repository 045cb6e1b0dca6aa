"""A lane: one configuration's database for one sweep — a fresh clone of its preloaded template, its simulated
clock, the probe that measures its ticks, and the workload that writes between them.

Time in a lane moves in ticks of the upstream 5 minutes. Writes are dated just after the last tick, so the tick
after next covers them by the watermark (its window ends 5 minutes before it starts); targets that also
discover rows by transaction id (hardened) pick them up one tick earlier.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta

from bench.capacity.probe import Probe
from bench.capacity.workload import Workload
from bench.capacity.world import TICK, World
from rollup.database import Database

WRITE_OFFSET = timedelta(seconds=1)
FLUSHED = [0.0]  # seconds this process has spent flushing the page cache for its lanes (the run reports it)


class Lane:
    def __init__(self, server, template: str, world: World, seed: int, mix: dict[str, float] | None = None,
                 cost=None, cap_ms: float | None = None):
        self.db = Database(server, world.end, template=template, file_copy=True)
        # The servers run with fsync off, so the clone's files (gigabytes at 10M rows) and a preload's writes sit
        # dirty in the page cache; flushed now, the kernel does not write them back during the measurements.
        t = time.perf_counter()
        os.sync()
        FLUSHED[0] += time.perf_counter() - t
        try:
            self.probe = Probe(self.db, cost)  # cost: an injected duration model (tests)
            self.probe.cap_ms = cap_ms  # every tick's cap, the warm-up's too (a TickCapped drops the lane)
            self.work = Workload(world, seed, mix)
            self.conn = self.db.connect()
            self.now = world.end
            # Warm-up, never kept: a new session plans the tick's statements on their first run. One key (the
            # last in the workload's order, so no sweep's first keys) re-reported and absorbed.
            self.write(lambda c: self.work.rereport_keys(c, 1, offset=self.work.keys - 1))
            self.tick()
            self.tick()
        except BaseException:
            self.db.drop()
            raise

    def __enter__(self) -> Lane:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.probe.close()
        self.conn.close()
        self.db.drop()

    def write(self, fn, periods_ago: int = 0):
        """Run fn(conn) in one transaction dated just after the last tick (or `periods_ago` ticks before)."""
        with self.db.clock.transaction(self.conn, self.now + WRITE_OFFSET - periods_ago * TICK):
            return fn(self.conn)

    def tick(self, explain: bool = False, periods: int = 1) -> dict:
        """Advance `periods` ticks of simulated time and run one measured tick there."""
        self.now += periods * TICK
        self.db.clock.set(self.now)
        record = self.probe.tick(self.now, explain)
        record["sim_at"] = self.now.isoformat()
        return record

    def totals(self) -> int:
        """The rollup's grand total of tokens and events: the workload's writes always move it once absorbed."""
        return self.probe.conn.execute(
            "SELECT coalesce(sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens"
            " + event_count), 0) FROM task_usage_hourly").fetchone()[0]

    def absorb(self, explain: bool = False) -> tuple[dict, dict]:
        """The two ticks after a write: (the one that did the work, the other). The working tick is the first
        after which the rollup's totals moved: the reference's second, the hardened target's first (its second
        recomputes the same keys again, by the watermark, and finds them unchanged)."""
        t0 = self.totals()
        a = self.tick(explain)
        t1 = self.totals()
        b = self.tick(explain)
        if t1 != t0 or self.totals() == t1 and a["upserted"] + a["deleted"] >= b["upserted"] + b["deleted"]:
            return a, b
        return b, a
