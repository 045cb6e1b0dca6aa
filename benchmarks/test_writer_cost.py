"""Writer cost (sweep (e) of `rollup-bench capacity`): one application statement per round, per operation kind
and trigger state, on the reference target.

Opt-in: `pytest benchmarks/test_writer_cost.py -n 0 --benchmark-enable -s`. The world is built once into a
template per state; each test works on a fresh copy, each round on its own rows (the setup hands it the next
planned operation). As in the sweep, this thread and its backend share one CPU and the tick loop of 'active'
gets the others, so a cross-CPU wake-up does not drown the triggers' cost.
"""

from __future__ import annotations

import pytest

from bench.capacity.writers import KINDS, STATES, apply, cpu_split, open_state, pinned, plan, templates

ROUNDS, WARMUP = 300, 30


@pytest.fixture(scope="module")
def world(embedded):
    with templates(embedded, "reference", seed=1, ops=ROUNDS + WARMUP) as made:
        yield made


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("kind", KINDS)
def test_writer_cost(benchmark, embedded, world, kind, state):
    names, w = world
    params = iter(plan(w, kind, ROUNDS + WARMUP, seed=1))
    measuring, ticking = cpu_split(embedded)
    benchmark.group = kind
    with (open_state(embedded, names, state, ticking) as h, h.db.connect() as conn, pinned(conn, measuring)):
        benchmark.pedantic(apply, setup=lambda: ((conn, kind, next(params)), {}), rounds=ROUNDS,
                           warmup_rounds=WARMUP)
        if h.ticks is not None:
            benchmark.extra_info["ticks"] = h.ticks.ticks
