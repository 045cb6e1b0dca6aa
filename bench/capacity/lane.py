"""A lane: one configuration's database for one sweep — a fresh clone of its preloaded template, its simulated
clock, the probe that measures its ticks, and the workload that writes between them.

Time in a lane moves in ticks of the upstream 5 minutes. Writes are dated just after the last tick, so the tick
after next covers them by the watermark (its window ends 5 minutes before it starts); targets that also
discover rows by transaction id (hardened) pick them up one tick earlier.
"""

from __future__ import annotations

from datetime import timedelta

from bench.capacity.probe import Probe
from bench.capacity.workload import Workload
from bench.capacity.world import TICK, World
from rollup.database import Database

WRITE_OFFSET = timedelta(seconds=1)


class Lane:
    def __init__(self, server, template: str, world: World, seed: int, mix: dict[str, float] | None = None):
        self.db = Database(server, world.end, template=template)
        try:
            self.probe = Probe(self.db)
            self.work = Workload(world, seed, mix)
            self.conn = self.db.connect()
        except BaseException:
            self.db.drop()
            raise
        self.now = world.end

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

    def absorb(self, explain: bool = False) -> tuple[dict, dict]:
        """The two ticks after a write: (the one that did the work, the other). The working tick is the one that
        wrote more rollup rows: the reference's second, the hardened target's first."""
        a, b = self.tick(explain), self.tick(explain)
        return (a, b) if a["upserted"] + a["deleted"] > b["upserted"] + b["deleted"] else (b, a)
