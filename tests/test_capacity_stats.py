"""The capacity arithmetic and spec validation, without a database."""

from __future__ import annotations

import math

import pytest

from bench.capacity import stats
from bench.capacity.spec import loads
from bench.workload.scenario import ScenarioError


def test_fit_recovers_a_known_line():
    line = stats.fit([1, 10, 100, 1000], [2 + 0.5 * x for x in (1, 10, 100, 1000)])
    assert line.a == pytest.approx(2) and line.b == pytest.approx(0.5) and line.r2 == pytest.approx(1)
    assert line.solve(502) == pytest.approx(1000)


def test_slope_interval_holds_zero_for_a_flat_queue_and_not_for_a_growing_one():
    _, lo, hi = stats.slope_ci([5, 6, 5, 4, 5, 6, 5, 4, 5, 6, 5, 5])
    assert lo <= 0 <= hi
    _, lo, hi = stats.slope_ci([10 * n + (n % 2) for n in range(12)])
    assert lo > 0


def test_bisection_finds_a_known_capacity_within_ten_percent():
    capacity = 3137.0
    lo, hi, probes = stats.bisect_limit(lambda w: w <= capacity, 100, 100_000)
    assert lo <= capacity < hi and hi / lo <= 1.10 and probes > 0


def test_crossover_interpolates_where_speedup_crosses_one():
    x = stats.crossover([(0.001, 8.0), (0.01, 2.0), (0.1, 0.5)])
    assert 0.01 < x < 0.1
    assert stats.crossover([(0.001, 8.0), (0.01, 2.0)]) is None


def test_spec_errors_name_file_key_and_line():
    with pytest.raises(ScenarioError, match=r"x.toml:3: capacity.repetitions"):
        loads('[capacity]\nname = "g"\nrepetitions = 2\n', "x.toml")
    with pytest.raises(ScenarioError, match="sweep.rate.ticks"):
        loads('[capacity]\nname = "g"\n[sweep.rate]\nticks = 5\n', "x.toml")
    with pytest.raises(ScenarioError, match=r"x.toml:4: sweep.density.rows_per_hour.*strictly increasing"):
        loads('[capacity]\nname = "g"\n[sweep.density]\nrows_per_hour = [1000, 100]\n', "x.toml")


def test_plan_spec_loads_its_production_hours_and_quick_halves_them():
    from pathlib import Path

    spec = loads(Path("scenarios/capacity/plan.toml").read_text(), "plan.toml")
    assert spec.density and spec.density.rows_per_hour == (100, 1000, 10_000) and spec.rate
    assert spec.quick().density.rows_per_hour == (100, 1000)


def test_gate_spec_loads():
    from pathlib import Path

    spec = loads(Path("scenarios/capacity/gate.toml").read_text(), "gate.toml")
    assert spec.keys and spec.rate and spec.budget and math.isclose(spec.period, 0.1)


def _point(w: int, ok: bool) -> dict:
    return {"writes_per_tick": w, "sustainable": ok}


def test_limit_from_the_ladder_then_bisection_then_below_the_ladder():
    from bench.capacity.rate import Scale, _limit

    capacity, probed = 37.0, []

    def probe(w: float) -> bool:
        probed.append(w)
        return w <= capacity

    # bracketed by the ladder: bisection inside the bracket
    lim = _limit([_point(10, True), _point(100, False)], "sustainable", probe, Scale(0.2, 1000, 1.0), [])
    assert lim["measured"] and lim["bracket"][0] <= capacity < lim["bracket"][1] and probed
    # the ladder's first point is already beyond: it looks below (÷4 per step), then bisects
    lim = _limit([_point(200, False)], "sustainable", probe, Scale(0.2, 1000, 1.0), [])
    lo, hi = lim["bracket"]
    assert lim["measured"] and lo <= capacity < hi and hi / lo <= 1.1 + 1e-9
    # nothing keeps up, even one write a tick: no limit, and it says where it looked
    lim = _limit([_point(200, False)], "sustainable", lambda w: False, Scale(0.2, 1000, 1.0), [])
    assert lim["writes_per_tick"] is None and lim["below"] == 200


def test_limit_beyond_the_search_is_extrapolated_from_the_fit_and_marked():
    from bench.capacity.rate import Scale, _limit

    records = [{"warmup": False, "writes_per_tick": w, "d_ms": 1 + 0.5 * w} for w in (10, 20, 40) for _ in range(3)]
    lim = _limit([_point(10, True), _point(20, True), _point(40, True)], "sustainable", None, Scale(0.2, 40, 1.0), records)
    assert lim["measured"] is False and lim["largest_measured"] == 40
    assert lim["writes_per_tick"] == pytest.approx((200 - 1) / 0.5)


def _result(k1000_ms: float, idle_ms: float) -> dict:
    return {"spec": "s", "period_s": 0.2,
            "keys": {"r@pg18": {"points": [{"k": 1000, "median_ms": k1000_ms}]}},
            "history": {"r@pg18": [{"rows": 1000, "change_ms": {"median": 50.0}, "idle_ms": {"median": idle_ms}}]}}


def test_run_to_run_comparison_flags_a_point_beyond_tolerance_and_ignores_noise():
    from bench.capacity.compare import compare

    rows = {r["point"]: r for r in compare(_result(100.0, 0.4), _result(120.0, 0.9), 0.15, floor_ms=1.0)}
    assert not rows["keys k=1000"]["ok"] and rows["keys k=1000"]["ratio"] == pytest.approx(1.2)
    assert rows["history 1,000 rows: idle tick"]["ok"] and rows["history 1,000 rows: idle tick"]["under_floor"]
    assert rows["history 1,000 rows: change tick"]["ok"]
    assert all(r["ok"] for r in compare(_result(100.0, 0.4), _result(110.0, 0.4), 0.15))
    assert rows["keys k=1000"]["overlap"] is None  # no range kept: nothing claimed about the spread


def test_run_to_run_comparison_says_whether_the_runs_ranges_overlap():
    from bench.capacity.compare import compare

    def ranged(median, lo, hi):
        r = _result(median, 0.4)
        r["keys"]["r@pg18"]["points"][0] |= {"min_ms": lo, "max_ms": hi}
        return r

    scattered = compare(ranged(100.0, 60.0, 130.0), ranged(125.0, 110.0, 180.0))[-1]
    moved = compare(ranged(100.0, 95.0, 105.0), ranged(125.0, 120.0, 130.0))[-1]
    assert scattered["point"] == moved["point"] == "keys k=1000"
    assert not scattered["ok"] and scattered["overlap"] is True
    assert not moved["ok"] and moved["overlap"] is False


def test_paired_ratios_hold_under_a_uniform_drift_and_flag_a_pair_that_moved(tmp_path):
    import json

    from typer.testing import CliRunner

    from bench.capacity.compare import paired
    from bench.cli.main import app

    def two(ref_ms: float, hard_ms: float) -> dict:
        return {"spec": "s", "period_s": 0.2, "baseline": "r",
                "configs": [{"label": "r@pg18", "target": "r", "pg": "embedded"},
                            {"label": "h@pg18", "target": "h", "pg": "embedded"}],
                "keys": {"r@pg18": {"points": [{"k": 10, "median_ms": ref_ms}]},
                         "h@pg18": {"points": [{"k": 10, "median_ms": hard_ms}]}}}

    (drifted,) = paired(two(100.0, 50.0), two(130.0, 65.0))  # the machine 30 % slower: both sides alike
    assert drifted["config"] == "h@pg18" and drifted["baseline"] == "r@pg18" and drifted["ok"]
    assert drifted["drift"] == pytest.approx(1.0)
    (moved,) = paired(two(100.0, 50.0), two(100.0, 65.0))  # only the target slower: the gate's judgment moved
    assert not moved["ok"] and moved["drift"] == pytest.approx(1.3)
    assert paired(two(100.0, 0.5), two(100.0, 0.9), floor_ms=1.0) == []  # a side under the floor: not compared
    assert not paired(two(100.0, 0.5), two(100.0, 0.9))[0]["ok"]  # no floor unless one is given
    paths = [tmp_path / "1.json", tmp_path / "2.json"]
    paths[0].write_text(json.dumps(two(100.0, 50.0)))
    paths[1].write_text(json.dumps(two(100.0, 65.0)))
    out = CliRunner().invoke(app, ["capacity-diff", *map(str, paths)])
    assert out.exit_code == 1 and "1 paired ratios (what the budgets judge), 1 beyond ±15%" in out.output, out.output


def test_capacity_diff_exit_codes(tmp_path):
    import json

    from typer.testing import CliRunner

    from bench.cli.main import app

    paths = []
    for i, ms in enumerate((100.0, 110.0, 150.0)):
        paths.append(tmp_path / f"{i}.json")
        paths[-1].write_text(json.dumps(_result(ms, 0.5)))
    runner = CliRunner()
    assert runner.invoke(app, ["capacity-diff", str(paths[0]), str(paths[1])]).exit_code == 0
    out = runner.invoke(app, ["capacity-diff", str(paths[0]), str(paths[2])])
    assert out.exit_code == 1 and "differs" in out.output
    (tmp_path / "bad.json").write_text("{")
    assert runner.invoke(app, ["capacity-diff", str(paths[0]), str(tmp_path / "bad.json")]).exit_code == 2


def test_a_shared_full_rebuild_is_one_point_under_the_configuration_that_measured_it():
    from bench.capacity.compare import medians

    def crossover(full_from: str) -> dict:
        return {"1000": {"full_from": full_from, "full_ms": {"median": 40.0, "min": 38.0, "max": 45.0},
                         "points": [{"fraction": 0.01, "incremental_ms": {"median": 5.0}}]}}

    got = medians({"crossover": {"r@pg18": crossover("r@pg18"), "h@pg18": crossover("r@pg18")}})
    full = [key for key in got if key[1].endswith("full rebuild")]
    assert full == [("r@pg18", "crossover 1,000 rows: full rebuild")]
    assert ("h@pg18", "crossover 1,000 rows: incremental at 1.00%") in got  # its own measurements stay


def test_a_point_is_also_judged_against_the_machines_own_drift(tmp_path):
    import json

    from typer.testing import CliRunner

    from bench.capacity.compare import compare, machine
    from bench.cli.main import app

    def run(k1000_ms: float, work_ms: float) -> dict:
        r = _result(k1000_ms, k1000_ms / 250) | {"configs": [{"label": "r@pg18", "target": "r", "pg": "embedded"}]}
        r["history"]["r@pg18"][0]["change_ms"]["median"] = k1000_ms / 2  # every timed point moves with the machine
        r["fixed_work"] = {"embedded": {"median": work_ms, "min": work_ms * 0.8, "max": work_ms * 1.2, "n": 9,
                                        "spread": 0.4}}
        return r

    slower = {r["point"]: r for r in compare(run(100.0, 5.0), run(130.0, 6.5))}["keys k=1000"]
    assert not slower["ok"] and slower["scaled"] == pytest.approx(1.0) and slower["scaled_ok"]  # the machine's 1.3
    moved = {r["point"]: r for r in compare(run(100.0, 5.0), run(130.0, 5.0))}["keys k=1000"]
    assert not moved["scaled_ok"] and moved["scaled"] == pytest.approx(1.3)  # the point moved, the machine did not
    assert compare(_result(100.0, 0.4), _result(130.0, 0.4))[-1]["scaled"] is None  # runs that sampled nothing
    # the machine slowed during the keys sweep only: the history's unmoved change tick is not scaled by it
    first, second = run(100.0, 5.0), run(130.0, 6.5)
    first["history"]["r@pg18"][0]["change_ms"]["median"] = second["history"]["r@pg18"][0]["change_ms"]["median"] = 50
    first["fixed_work"]["embedded"]["by_sweep"] = {"keys": 5.0, "history": 5.0}
    second["fixed_work"]["embedded"]["by_sweep"] = {"keys": 6.5, "history": 5.0}
    rows = {r["point"]: r for r in compare(first, second)}
    assert rows["keys k=1000"]["scaled"] == pytest.approx(1.0)
    assert rows["history 1,000 rows: change tick"]["scaled"] == pytest.approx(1.0)
    assert machine(run(100.0, 5.0), run(100.0, 6.0))["embedded"]["ratio"] == pytest.approx(1.2)
    paths = [tmp_path / "1.json", tmp_path / "2.json"]
    paths[0].write_text(json.dumps(run(100.0, 5.0)))
    paths[1].write_text(json.dumps(run(130.0, 6.5)))
    out = CliRunner().invoke(app, ["capacity-diff", *map(str, paths)], env={"COLUMNS": "200"})
    assert out.exit_code == 1, out.output  # the verdict stays on the medians themselves
    assert "fixed work, second run ÷ first: embedded 1.30" in out.output, out.output
    assert "3 beyond ±15%" in out.output and "scaled by it, 0 points beyond ±15%" in out.output, out.output


def test_the_fixed_work_meter_summarises_its_samples():
    from bench.capacity.noise import BURST, Meter

    m = Meter()
    assert m.summary() is None
    for sweep in ("keys", "keys", "rate"):
        m.sample(sweep)
    s = m.summary()
    assert s["n"] == 3 * BURST and 0 < s["min"] <= s["median"] <= s["max"] and s["spread"] >= 0
    assert set(s["by_sweep"]) == {"keys", "rate"}
    assert 0 <= s["slow"] <= 1
    m.samples = [("keys", 4.0), ("keys", 4.2), ("rate", 7.0), ("rate", 6.9)]  # the machine's two speeds
    assert m.summary()["slow"] == pytest.approx(0.5)


def test_the_fastest_repetitions_are_compared_beside_the_medians(tmp_path):
    from bench.capacity.compare import compare

    def ranged(median, lo):
        r = _result(median, 0.4)
        r["keys"]["r@pg18"]["points"][0] |= {"min_ms": lo, "max_ms": median * 2}
        return r

    row = compare(ranged(100.0, 80.0), ranged(140.0, 84.0))[-1]  # a slow spell moved the median, not the fastest
    assert row["point"] == "keys k=1000" and not row["ok"] and row["min_ratio"] == pytest.approx(1.05) and row["min_ok"]
    assert compare(_result(100.0, 0.4), _result(100.0, 0.4))[-1]["min_ratio"] is None  # no range kept


def test_a_rate_unsustainable_in_both_runs_is_held_to_its_verdict_not_the_tolerance():
    from bench.capacity.compare import compare

    def run(rho: float, sustainable: bool) -> dict:
        return {"period_s": 0.1, "rate": {"r@pg18": {"compressed": {"points": [
            {"writes_per_tick": 100, "rho_median": rho, "sustainable": sustainable}]}}}}

    spiral = compare(run(2.0, False), run(3.0, False))[0]  # a backlog's D, 1.5× apart
    assert spiral["overloaded"] and spiral["ok"] and not spiral["verdict_moved"]
    moved = compare(run(0.9, True), run(0.95, False))[0]  # D within 15 %, but one run kept up and one did not
    assert moved["verdict_moved"] and not moved["ok"] and not moved["overloaded"]
    kept_up = compare(run(0.3, True), run(0.4, True))[0]
    assert not kept_up["overloaded"] and not kept_up["ok"]  # a sustainable rate's D is held to the tolerance


def test_a_cheap_tick_point_repeats_until_its_ticks_add_up_to_point_time_and_no_further_than_five_fold():
    import dataclasses
    from types import SimpleNamespace

    from bench.capacity.run import CapacityRun
    from bench.capacity.stops import MORE_REPETITIONS
    from bench.capacity.spec import loads

    spec = dataclasses.replace(loads('[capacity]\nname = "t"\npoint_time = "100ms"\n'), repetitions=3)
    assert spec.point_time == pytest.approx(0.1)
    run = CapacityRun(spec, ["a", "b"], ["embedded"])
    run.configs = [SimpleNamespace(label=x, target=x, pg="embedded") for x in ("a", "b")]

    def reps(ms: dict[str, float], timed: bool = True) -> dict[str, int]:
        out = run._paired({"a": "a", "b": "b"}, lambda lane, rep: [{"d_ms": ms[lane]}], "keys", 1, 2, timed=timed)
        return {label: len(r) for label, r in out.items()}

    assert reps({"a": 60.0, "b": 60.0}) == {"a": 3, "b": 3}  # 180 ms each: the spec's repetitions suffice
    assert reps({"a": 60.0, "b": 8.0}) == {"a": 13, "b": 13}  # paired: both go on until the cheaper has 100 ms
    assert reps({"a": 1.0, "b": 1.0}) == {"a": 3 * MORE_REPETITIONS, "b": 3 * MORE_REPETITIONS}  # the cap
    assert reps({"a": 1.0, "b": 1.0}, timed=False) == {"a": 3, "b": 3}  # a point that is not ticks
    assert len(run.meter.samples) // 3 == 3 + 13 + 15 + 3  # the machine sampled before every repetition
