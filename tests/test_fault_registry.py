"""The registry of fault kinds (bench/workload/faults.py) held to its readers: scenario reading, the schedule's
strikes and coverage each iterate it, so a fault declared there is read, struck and counted — and swarm mixes are
the seed's own."""

from __future__ import annotations

import pytest

from bench.drive.history import frame_from_ops
from bench.judge import coverage
from bench.workload.faults import ASKS, BY_NAME, COUNTS, KINDS, REGISTRY, swarm
from bench.workload.scenario import ScenarioError, loads
from bench.workload.strikes import STRIKES

FOLLOW_UPS = {"late_end", "lock_wait_tick", "requeue_first", "requeue_tick"}  # strikes a strike schedules


def test_every_fault_strikes_and_every_strike_is_a_fault_or_its_follow_up():
    assert set(KINDS) <= set(STRIKES)
    assert set(STRIKES) - set(KINDS) == FOLLOW_UPS


@pytest.mark.parametrize("fault", REGISTRY, ids=KINDS)
def test_each_rate_and_cover_key_is_read_under_its_name(fault):
    sc = loads(f"[scenario]\nname = 'x'\n[faults]\n{fault.rate} = 2.5\n")
    assert sc.faults.rates[fault.name] == 2.5 and getattr(sc.faults, fault.rate) == 2.5
    assert [k for k, r in sc.faults.rates.items() if r] == [fault.name]
    for ask in fault.asks:
        sc = loads(f"[scenario]\nname = 'x'\n[cover]\n{ask.key} = 1\n")
        assert sc.cover.counts[ask.key] == 1 and sc.cover.any()
        with pytest.raises(ScenarioError, match=f"cover.{ask.key}"):
            loads(f"[scenario]\nname = 'x'\n[cover]\n{ask.key} = {ask.hi + 1}\n")


def test_every_ask_is_held_to_a_count_coverage_reads():
    c = coverage.of(frame_from_ops([]), {}, loads("[scenario]\nname = 'x'\n"))
    assert {k.key for k in COUNTS} <= set(c)
    for ask in ASKS.values():
        name, _, part = ask.count.partition(".")
        assert name in c and (not part or part in c[name]), ask
    sc = loads("[scenario]\nname = 'x'\n[cover]\n" + "".join(f"{k} = 1\n" for k in ASKS))
    check = coverage.check(c, sc)  # nothing ran: every ask is missing, each said
    assert not check["ok"] and all(f"0 of 1 {a.what}" in check["observed"] for a in ASKS.values())


def test_connections_of_ticking_faults_are_declared():
    assert all(f.conn for f in REGISTRY if f.ticks)
    assert BY_NAME["requeue"].tick_after > 0


def test_a_swarm_is_the_seeds_own_mix_and_said_in_the_coverage_line():
    rates = dict.fromkeys(KINDS, 0.0) | {"late": 10.0, "cancel": 2.0, "race": 2.0, "requeue": 1.0}
    mixes = [swarm(seed, rates) for seed in range(1, 21)]
    assert mixes[0] == swarm(1, rates)  # replayable
    assert len({tuple(m.values()) for m in mixes}) > 10  # seeds differ
    assert all(any(m.values()) for m in mixes)  # one kind on at least
    assert all(m[k] == 0 for m in mixes for k in KINDS if not rates[k])  # never a kind the file left out
    assert any(m["late"] == 0 for m in mixes) and any(m["late"] > 0 for m in mixes)
    sc = loads("[scenario]\nname = 'x'\n[faults]\nswarm = true\nlate_commits = 10\ncancels = 2\n")
    c = coverage.of(frame_from_ops([]), {}, sc)
    assert c["swarm"] == swarm(sc.seed, sc.faults.rates) and "swarm — " in coverage.line(c)
    assert "swarm" not in coverage.of(frame_from_ops([]), {}, loads("[scenario]\nname = 'x'\n"))


def test_a_swarm_schedule_draws_only_the_kinds_its_seed_turned_on():
    from bench.workload.generator import Generator
    text = ("[scenario]\nname = 'x'\nduration = '2d'\nseed = {seed}\n[faults]\nswarm = {swarm}\nlate_commits = 20\n"
            "cancels = 6\nraces = 6\nbackfills = 4\n")
    seen = set()
    for seed in range(1, 9):
        sc = loads(text.format(seed=seed, swarm="true"))
        schedule = Generator(sc).nemesis
        assert schedule.rates == swarm(seed, sc.faults.rates)
        drawn = {kind for _, kind, _ in schedule.events}
        assert drawn <= {k for k, r in schedule.rates.items() if r}
        seen.add(frozenset(drawn))
    assert len(seen) > 2  # seeds mix differently
    plain = Generator(loads(text.format(seed=1, swarm="false"))).nemesis
    assert plain.rates == loads(text.format(seed=1, swarm="false")).faults.rates
