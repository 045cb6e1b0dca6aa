"""The application's tick scheduler, emulated in simulated time (pipeline.md §7).

Every replica polls every 30 s; at a poll at time t the due plan is floor(t − 5 min) to 5 minutes; the first
replica to poll after a plan falls due wins it, and runs the tick on its own pooled, reused connection. A run
that exceeds the run timeout is cancelled (a cancel request, as a context deadline sends); a failed run is
retried after 1 and 5 minutes, up to 3 attempts. Losing lock 4246 counts as success with 0 rows.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from rollup.database import Database
from rollup.pipeline import Pipeline

PLAN = timedelta(minutes=5)
POLL = timedelta(seconds=30)
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15))


def plan_of(t: datetime) -> datetime:
    """The plan a poll at `t` runs: floor(t − 5 min) to 5 minutes."""
    edge = t - PLAN
    return edge - timedelta(minutes=edge.minute % 5, seconds=edge.second, microseconds=edge.microsecond)


@dataclass(frozen=True)
class TickRun:
    plan: datetime
    at: datetime
    replica: int
    attempt: int
    rows: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None


class Scheduler:
    """Runs the ticks that fall due as simulated time moves forward."""

    def __init__(self, db: Database, replicas: int = 1, seed: int = 0, run_timeout: float = 25 * 60,
                 attempts: int = 3):
        self.db = db
        rng = random.Random(seed)
        # Each replica polls at its own phase within the 30-second period, fixed by the seed.
        self.phases = [timedelta(milliseconds=rng.randrange(int(POLL.total_seconds() * 1000)))
                       for _ in range(replicas)]
        self.pipelines = [Pipeline(db) for _ in range(replicas)]
        self.run_timeout = run_timeout  # wall-clock seconds: the cancel is a real one
        self.attempts = attempts
        self.paused_until: datetime | None = None
        self.history: list[TickRun] = []
        self._next_plan: datetime | None = None
        self._retries: list[tuple[datetime, int, datetime, int]] = []  # (at, attempt, plan, replica)

    def close(self) -> None:
        for p in self.pipelines:
            p.close()

    def pause(self, until: datetime) -> None:
        """No replica polls before `until` (a stopped worker)."""
        self.paused_until = until

    def _first_poll(self, after: datetime) -> tuple[datetime, int]:
        """The earliest poll at or after `after` across replicas, and the replica making it."""
        best = None
        for i, phase in enumerate(self.phases):
            offset = (after - phase - datetime(2000, 1, 1, tzinfo=UTC)) % POLL
            at = after if offset == timedelta(0) else after + (POLL - offset)
            if best is None or at < best[0]:
                best = (at, i)
        return best

    def _run(self, plan: datetime, at: datetime, replica: int, attempt: int) -> TickRun:
        self.db.clock.set(at)
        try:
            rows, error = self.pipelines[replica].tick(at=at, cancel_after=self.run_timeout), None
        except psycopg.Error as exc:
            rows, error = None, f"{type(exc).__name__}: {str(exc).strip()}"
        if rows is not None and rows < 0:  # a tick that records its error and reports -1 (the hardened one)
            error = "tick reported failure (-1); see last_error"
        run = TickRun(plan, at, replica, attempt, rows, error)
        self.history.append(run)
        if error and attempt < self.attempts:
            heapq.heappush(self._retries, (at + BACKOFF[attempt - 1], attempt + 1, plan, replica))
        return run

    def run_until(self, end: datetime) -> list[TickRun]:
        """Run every tick due up to `end`, in time order, leaving the clock at `end`."""
        runs = []
        start = self.db.clock.now
        if self._next_plan is None:
            self._next_plan = plan_of(start) + PLAN
        while True:
            due = self._next_plan + PLAN
            if self.paused_until and due < self.paused_until:
                due = self.paused_until
            poll_at, replica = self._first_poll(due)
            retry_at = self._retries[0][0] if self._retries else None
            if retry_at is not None and self.paused_until and retry_at < self.paused_until:
                retry_at = self.paused_until  # a stopped worker retries nothing either; it retries on resuming
            if retry_at is not None and retry_at <= end and retry_at <= poll_at:
                _, attempt, plan, rep = heapq.heappop(self._retries)
                runs.append(self._run(plan, retry_at, rep, attempt))
                continue
            if poll_at > end:
                break
            plan = plan_of(poll_at)  # after a pause, missed plans are simply skipped
            runs.append(self._run(plan, poll_at, replica, 1))
            self._next_plan = plan + PLAN
        self.db.clock.set(max(end, self.db.clock.now))
        return runs
