"""Bounds on the numbers that size a run's work or memory, and the memory a generated workload would take.

Every field of a scenario is finite and fits in 64 bits (schema.py); these are tighter, chosen from what this
machine does (2 cores, 23 GB shared by the bench's users; the generator holds every operation in memory, about
0.5–0.7 kB each) and what the modelled application sees. The reasons are in docs/scenarios.md (#bounds). A
value beyond one is a one-line error naming the key, before anything runs.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bench.workload.schema import Table

RATE_MAX = 10_000  # tasks_per_hour, operations.per_hour: per workspace; steady has 12 and 2
BURST_FACTOR_MAX = 100
BURSTS_PER_DAY_MAX = 100  # a hundred 20-minute bursts already cover a day
PER_TENANT_MAX = 10_000  # users, runtimes, agents, projects per workspace
ISSUES_MAX = 100_000  # issues per workspace
ENTITIES_MAX = 200_000  # workspaces × (users + runtimes + agents + projects + issues): each is an insert up front
TOKENS_MAX = 1_000_000  # input_median, output_median: a model's whole context window
SIGMA_MAX = 3.0  # with the medians' and the ratio's bounds a drawn counter stays far inside 64 bits
CACHE_RATIO_MAX = 100.0
SEEDS_MAX = 100_000  # seeds in one --seeds batch: at a few seconds a run, weeks of this machine
SHARDS_MAX = 1_000  # N of --shard K/N (a CI matrix; GitHub's has at most 256 jobs)
BYTES_PER_OP = 1024  # the generator's measured peak was ~675 B an operation (steady, 87k ops): rounded up
MEMORY_BUDGET = 2 << 30  # bytes the generated workload may take: a tenth of this machine's memory
HOUR = timedelta(hours=1)


def workspaces(t: Table, counts: dict[str, int], default: int) -> int:
    """`[tenants] workspaces` (at most 1000), unless the world's up-front inserts alone are past ENTITIES_MAX."""
    workspaces = t.number("workspaces", default, int, lo=1, hi=1000)
    total = workspaces * sum(counts.values())
    if total > ENTITIES_MAX:
        t.fail("workspaces", f"{workspaces} workspaces × {sum(counts.values())} users, runtimes, agents, projects "
                             f"and issues each = {total} entities; at most {ENTITIES_MAX}")
    return workspaces


def estimated_ops(sc: Any) -> int:
    """About how many operations the generator emits for `sc` (steady: 90.9k estimated, 87.0k emitted): per
    workspace and hour, its tasks (bursts included) each with its usage reports, and its mutations; then the
    entities made up front, the ticks and the checks."""
    r, hours = sc.rates, sc.duration / HOUR
    burst_share = min(1.0, r.bursts_per_day * (r.burst_length / HOUR) / 24)
    tasks = r.tasks_per_hour * (1 + burst_share * (r.burst_factor - 1))
    rows = sum(r.usage_rows_per_task) / 2 * sum(r.reports_per_row) / 2
    t = sc.tenants
    per_hour = t.workspaces * (tasks * (1 + rows) + sc.operations.per_hour)
    made = t.workspaces * (t.users + t.runtimes + t.agents + t.projects + t.issues)
    return int(per_hour * hours + made + sc.duration / sc.pipeline.tick_every + sc.duration / sc.pipeline.check_every)


def workload(root: Table, sc: Any) -> Any:
    """`sc` (a Scenario: scenario.py imports this module), if its generated workload fits MEMORY_BUDGET; else a one-line error saying what it would take."""
    if sc.steps:  # a script holds what it says, no more
        return sc
    ops = estimated_ops(sc)
    if ops * BYTES_PER_OP > MEMORY_BUDGET:
        size = ops * BYTES_PER_OP / 2**30
        root.fail("scenario", f"the generated workload would hold about {ops:.3g} operations (~{size:.3g} GiB), "
                              f"past the budget of {MEMORY_BUDGET >> 30} GiB: lower the rates, tenants or duration")
    return sc
