"""Budgets as paired ratios, and the sequential decision that stops a regression early, on recorded figures:
no database, no clock."""

from __future__ import annotations

from bench.capacity import budget, paired
from bench.capacity.spec import Budget

# Paired figures (target ms, baseline ms) of one point, as a busy machine gives them: both sides of a pair move
# together with the machine, by up to 1.7× from one repetition to the next.
MACHINE = [1.0, 1.7, 1.2, 1.5, 1.0, 1.6]


def pairs(target_ms: float, base_ms: float, wobble=(1.0, 1.1, 0.93, 1.05, 0.97, 1.02)) -> list[tuple[float, float]]:
    return [(target_ms * m * w, base_ms * m) for m, w in zip(MACHINE, wobble)]


def test_a_10x_regression_stops_after_the_minimum_pairs_whatever_the_machine_does():
    seen = []
    for n in range(1, len(MACHINE) + 1):
        r = paired.ratio(pairs(200.0, 20.0)[:n])
        seen.append(paired.over_with_confidence(r, 1.5, floor_ms=20.0))
    assert seen == [False, False, True, True, True, True]  # decided at MIN_PAIRS, never before


def test_an_unchanged_target_never_stops_and_passes_on_a_machine_slowing_both_sides():
    for n in range(1, len(MACHINE) + 1):
        r = paired.ratio(pairs(20.0, 20.0)[:n])
        assert not paired.over_with_confidence(r, 1.5, floor_ms=2.0)
    r = paired.ratio(pairs(20.0, 20.0))
    assert 0.9 < r.ratio < 1.1 and r.low < 1 < r.high
    assert not paired.over_budget(r, 1.5, floor_ms=2.0)
    # The same figures taken unpaired, slowest target against fastest baseline, read 1.87×: pairing is the fix.
    assert max(t for t, _ in pairs(20.0, 20.0)) / min(b for _, b in pairs(20.0, 20.0)) > 1.8


def test_a_small_regression_is_judged_at_the_end_not_stopped_early():
    r = paired.ratio(pairs(34.0, 20.0, wobble=(1.0, 1.5, 0.7, 1.3, 0.8, 1.2)))  # ~1.8× against 1.5×, scattered
    assert not paired.over_with_confidence(r, 1.5, floor_ms=2.0)  # the interval reaches below the budget
    assert paired.over_budget(r, 1.5, floor_ms=2.0)


def test_three_pairs_a_busy_spell_slowed_on_one_side_are_measured_again_and_outvoted():
    # An unchanged copy whose first three repetitions a spell of the machine slowed on the target's side only
    # (the 2.00× of a loaded run, interval 1.38–2.90): undecided, so the point is measured again; the pairs
    # after the spell bring it back within the budget.
    spell = [(1087.0, 560.0), (1300.0, 520.0), (900.0, 560.0)]
    r = paired.ratio(spell)
    assert r.ratio > 1.5 and r.low <= 1.5 and paired.undecided(r, 1.5, floor_ms=5.0)
    calm = pairs(560.0, 560.0) + pairs(560.0, 560.0)
    r = paired.ratio(spell + calm)
    assert not paired.undecided(r, 1.5, floor_ms=5.0) and not paired.over_budget(r, 1.5, floor_ms=5.0)
    # a regression stays past its budget however many pairs follow, and is no longer undecided once confirmed
    r = paired.ratio(pairs(34.0, 20.0, wobble=(1.0, 1.5, 0.7, 1.3, 0.8, 1.2)) * 2)
    assert paired.over_budget(r, 1.5, floor_ms=2.0)
    assert not paired.undecided(paired.ratio(pairs(200.0, 20.0)), 1.5, floor_ms=20.0)  # beyond doubt: stop


def test_a_difference_under_the_floor_passes_whatever_its_ratio():
    r = paired.ratio(pairs(3.0, 1.0))
    assert r.ratio > 2.5 and not paired.over_budget(r, 1.5, floor_ms=5.0)
    assert not paired.over_with_confidence(r, 1.5, floor_ms=5.0)


def test_pairs_missing_a_side_are_not_divided():
    assert paired.ratio([(0.0, 1.0), (float("nan"), 2.0)]) is None


def _results(samples_t, samples_b, stopped=None):
    configs = [{"label": "ref@pg18", "target": "reference", "pg": "embedded"},
               {"label": "new@pg18", "target": "new", "pg": "embedded"}]
    keys = {"ref@pg18": {"points": [{"k": 10, "samples_ms": samples_b}]},
            "new@pg18": {"points": [{"k": 10, "samples_ms": samples_t}]}}
    return {"configs": configs, "keys": keys, "stopped": stopped or {}}


def test_evaluate_judges_the_paired_ratio_and_names_a_stopped_run():
    ok = budget.evaluate(_results([21, 35, 25], [20, 34, 24]), Budget(floor_ms=2.0), "reference", 0.1)
    assert ok["ok"] and [c["paired"] for c in ok["checks"]] == [True], ok
    stop = {"sweep": "keys", "point": "10", "limit": 1.5, "budget": "tick_p95", "ratio": 10.0, "low": 8.0,
            "high": 12.0, "n": 3, "diff_ms": 180.0, "baseline": "ref@pg18"}
    recorded = _results([200, 340, 240], [20, 34, 24], {"new@pg18": stop})
    bad = budget.evaluate(recorded, Budget(floor_ms=2.0), "reference", 0.1)
    assert not bad["ok"]
    assert any("stopped there" in (c.get("why") or "") for c in bad["checks"]), bad


def test_the_absolute_bound_is_judged_on_the_plan_and_needs_one():
    b = Budget(floor_ms=2.0, rho_max=1.0, planning_rate=100.0)
    res = _results([20, 34, 24], [20, 34, 24])
    plans = {"ref@pg18": {"period_s": 300.0, "rho": 0.2, "rho_high": 0.4},
             "new@pg18": {"period_s": 300.0, "rho": 0.8, "rho_high": 1.3}}
    out = budget.evaluate(res, b, "reference", 0.1, plans)
    rho = {c["target"]: c for c in out["checks"] if c["figure"].startswith("ρ")}
    assert rho["reference"]["ok"] and not rho["new"]["ok"] and not out["ok"]
    missing = budget.evaluate(res, b, "reference", 0.1, {})
    assert not missing["ok"] and all(not c["ok"] for c in missing["checks"] if c["figure"].startswith("ρ"))
    unmodelled = {"new@pg18": {"label": "new@pg18", "why": "not measured: stopped", "ask": {"period_s": 300.0}}}
    out = budget.evaluate(res, b, "reference", 0.1, unmodelled)
    (rho,) = [c for c in out["checks"] if c["figure"].startswith("ρ") and c["target"] == "new"]
    assert not rho["ok"] and rho["why"] == "not measured: stopped" and "T = 5 min" in rho["point"]


def test_a_writer_figure_without_pairs_is_shown_but_never_fails_the_gate():
    res = {"configs": [{"label": "a", "target": "reference", "pg": "e"}, {"label": "b", "target": "new", "pg": "e"}],
           "writers": {"a": {"concurrency": [{"state": "active", "writers": 1, "p99_ms": 10.0}]},
                       "b": {"concurrency": [{"state": "active", "writers": 1, "p99_ms": 150.0}]}}}
    out = budget.evaluate(res, Budget(floor_ms=1.0, writer_p99=1.2, rho_max=None), "reference", 0.1)
    (check,) = out["checks"]
    assert out["ok"] and check["ratio"] == 15.0 and not check["paired"] and "not judged" in check["why"]


def test_a_run_cut_short_judges_no_absolute_bound_it_could_not_model():
    stop = {"sweep": "preload", "point": "100000", "limit": 20, "budget": "tick_p95", "cap_ms": 2000.0,
            "why": "a tick ran past 2,000 ms, 20× the slowest tick of the baseline in this run, and was cancelled"}
    res = _results([], [], {"new@pg18": stop})
    plans = {label: {"label": label, "why": "not measured: the keys sweep gives the cost model its points"}
             for label in ("ref@pg18", "new@pg18")}
    out = budget.evaluate(res, Budget(floor_ms=2.0, rho_max=1.0, planning_rate=100.0), "reference", 0.1, plans)
    (check,) = out["checks"]  # the cancelled tick, and nothing about the baseline's unmodelled bound
    assert not out["ok"] and "cancelled" in check["why"] and check["point"] == "preload 100000", out
