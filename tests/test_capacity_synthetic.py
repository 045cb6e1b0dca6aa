"""The capacity machinery against synthetic targets whose cost is known (tests/targets/): the fitted per-key cost,
the queue's growth counted in rows, the bisection's limit and the extrapolated one, and the budget gate.

No outcome depends on how fast anything ran: every run here injects a duration model of the tick's exact counts
(`CapacityRun.cost`, in place of the measured duration, which is kept as `measured_ms`), so the machinery's
decisions — fits, skips, bisection, extrapolation, budgets — are judged on known figures. The one timed check left
is one-sided: a `pg_sleep` is a floor under the measured duration, which no load can break."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from bench.capacity import model as cost_model
from bench.capacity.lane import Lane
from bench.capacity.run import CapacityRun
from bench.capacity.spec import Reach, load
from bench.capacity.sweeps import judge, steady
from bench.capacity.world import prepare
from bench.cli.main import app
from rollup.migrations import Target

ROOT = Path(__file__).resolve().parents[1]
SYNTHETIC = ROOT / "tests" / "targets"
ROW_SLEEP_MS = 2.0  # known_capacity's pg_sleep per usage row in the tick's window (see its migration)
BUCKET_SLEEP_MS = 5.0  # sleep_per_bucket's pg_sleep per bucket written: a sleep long beside a wakeup's delay


def overlay(base: str, name: str) -> str:
    dirs = [ROOT / "migrations" / "reference"] + ([ROOT / "migrations" / "hardened"] if base == "hardened" else [])
    return ",".join(str(d) for d in [*dirs, SYNTHETIC / name])


def spec_file(tmp_path: Path, body: str, rows: int = 3000, period: str = "200ms") -> Path:
    path = tmp_path / "synthetic.toml"
    path.write_text(f"""[capacity]
name = "synthetic"
seed = 3
period = "{period}"
repetitions = 3

[history]
rows = [{rows}]
days = 2

[tenants]
workspaces = 2
runtimes = 2
agents = 3
projects = 2
issues = 5
{body}""")
    return path


def run(server, path: Path, targets: list[str], baseline: str | None = None, cost=None) -> tuple[dict, CapacityRun]:
    r = CapacityRun(load(path), targets, ["embedded"], baseline, Reach(given={"embedded": server}))
    r.cost = cost
    return r.execute(), r


def per_bucket(fixed: float, slow: float, fast: float, slow_label: str):
    """A tick cost model: `fixed` ms, plus `slow` ms a rollup bucket written for targets whose label starts with
    `slow_label`, `fast` for the others."""
    def cost(label: str, r: dict) -> float:
        return fixed + (slow if label.startswith(slow_label) else fast) * (r["upserted"] + r["deleted"])
    return cost


def per_row(ms: float, fixed: float = 1.0):
    """known_capacity's cost, exactly: `ms` a usage row in the tick's window (what its tick returns)."""
    return lambda label, r: fixed + ms * r["rows"]


@pytest.mark.one_server
def test_fitted_per_key_cost_recovers_the_cost_per_bucket(server, tmp_path):
    path = spec_file(tmp_path, "\n[sweep.keys]\npoints = [1, 30, 100]\nexplain = false\n")
    sleepy = overlay("reference", "sleep_per_bucket")
    results, r = run(server, path, ["reference", sleepy], cost=per_bucket(3.0, BUCKET_SLEEP_MS, 0.2, "sleep"))
    fits = {label.split("@")[0]: r["fit"] for label, r in results["keys"].items()}
    assert fits["sleep_per_bucket"]["b_ms"] == pytest.approx(BUCKET_SLEEP_MS, rel=1e-6), fits
    assert fits["reference"]["b_ms"] == pytest.approx(0.2, rel=1e-6), fits
    assert fits["sleep_per_bucket"]["a_ms"] == pytest.approx(3.0, rel=1e-6), fits
    for label, res in results["keys"].items():
        for p in res["points"]:
            assert p["upserts_per_key"] == pytest.approx(1.0), (label, p)  # one bucket per dirty key
        # Held out: k = 100 predicted from 1 and 30 (a decade past), then 5 and 55 within the range, from all
        # three; the injected cost is the model's own shape, so each prediction is exact.
        held = [(v["k"], bool(v.get("between"))) for v in res["validation"]]
        assert held == [(100, False), (5, True), (55, True)], (label, res["validation"])
        assert all(v["ratio"] == pytest.approx(1.0, rel=1e-6) for v in res["validation"]), res["validation"]
    # The one timed check, one-sided: the sleep is a floor under the measured tick, whatever the machine's load.
    slept = [t for t in r.ticks if t["config"].startswith("sleep") and t["sweep"] == "keys" and t["upserted"]]
    assert slept and all(t["measured_ms"] >= BUCKET_SLEEP_MS * t["upserted"] for t in slept), slept[:3]


@pytest.mark.one_server
def test_density_sweep_measures_a_production_hour_and_holds_out_its_last_point(server, tmp_path):
    # A known cost of every term: 2 ms fixed, 0.5 ms a bucket written, 0.01 ms a raw row read. Each point fills a
    # fresh hour with h rows and measures the tick that absorbs them; the last is predicted, then measured.
    path = spec_file(tmp_path, "\n[sweep.keys]\npoints = [1, 10, 30]\nexplain = false\n"
                               "\n[sweep.density]\nrows_per_hour = [30, 300, 3000]\n")
    cost = lambda label, r: 2.0 + 0.5 * (r["upserted"] + r["deleted"]) + 0.01 * r["raw_rows_read"]  # noqa: E731
    results, r = run(server, path, ["reference"], cost=cost)
    (density,) = results["density"].values()
    assert [p["h"] for p in density["points"]] == [30, 300, 3000], density
    work = [t for t in r.ticks if t["sweep"] == "density" and t.get("role") == "work"]
    # The reference finds a bucket's rows by its hour's created_at range (the key's other columns filter after
    # the read): at 3,000 rows its tick reads each bucket's whole hour, far more than the window's h rows and
    # each bucket's own (2h in all), which is what the plan must scale, not assume.
    assert all(0 < t["upserted"] <= t["h"] for t in work), work
    top = [t for t in work if t["h"] == 3000]
    assert top and all(t["raw_rows_read"] > 10 * 2 * t["h"] for t in top), [t["raw_rows_read"] for t in top]
    keys = [statistics.median(p["keys_samples"]) for p in density["points"]]
    assert keys == sorted(keys) and keys[0] < keys[-1], keys  # an hour of more rows occupies more keys
    (held,) = density["validation"]
    assert held["h"] == 3000 and held["ratio"] == pytest.approx(1.0, rel=0.05), held
    m = cost_model.fit(cost_model.samples(results, next(iter(results["density"]))))
    assert m.term("per_read") == pytest.approx(0.01, rel=0.02), m.as_dict()


@pytest.mark.one_server
def test_a_point_predicted_past_max_tick_is_skipped_and_a_fixed_cost_is_not_taken_for_a_per_key_one(server, tmp_path):
    # 100 ms fixed, 5 ms a key: k = 1 costs 105 ms, k = 30 250 ms, k = 100 600 ms. In proportion to k = 1's whole
    # tick (fixed cost included), k = 30 would be predicted at 3,150 ms, past 400 ms, and skipped; the line
    # through the tick with nothing dirty predicts it right (250 ms) and measures it, then skips k = 100 (600 ms).
    path = spec_file(tmp_path, "\n[sweep.keys]\npoints = [1, 30, 100]\nexplain = false\n")
    path.write_text(path.read_text().replace("repetitions = 3", "repetitions = 3\nmax_tick = \"400ms\""))
    results, _ = run(server, path, [overlay("reference", "same")], cost=per_bucket(100.0, 5.0, 5.0, ""))
    (keys,) = results["keys"].values()
    assert [p["k"] for p in keys["points"]] == [1, 30], keys
    assert [p["median_ms"] for p in keys["points"]] == [105.0, 250.0], keys
    (skipped,) = keys["skipped"]
    assert skipped["k"] == 100 and skipped["predicted_ms"] == pytest.approx(600.0), skipped


def test_queue_grows_by_exactly_the_keys_written_when_the_tick_does_nothing(server, tmp_path):
    spec = load(spec_file(tmp_path, ""))
    db, world = prepare(server, Target.resolve(overlay("reference", "noop_tick")), spec, 3000)
    try:
        lane = Lane(server, db.name, world, spec.seed, {"delete": 1.0})
        try:
            before = lane.probe.queue_depth()
            records = steady(lane, 40, ticks=6, warmup=1, period_s=spec.period)
            keyed = world.keyed()
            key = ["hour", "ws", "runtime", "agent", "project", "combo"]
            order = pl.DataFrame({"row": lane.work.doomed, "seq": range(len(lane.work.doomed))})
            deleted = keyed.join(order, on="row").sort("seq")
            for n, r in enumerate(records):
                expect = deleted.head(40 * (n + 1)).select(key).unique().height
                assert r["queue_after"] - before == expect, (n, r["queue_after"], expect)
                assert r["queue_drained"] == 0
            verdict = judge(records, spec.period)
            assert not verdict["sustainable"]
            assert verdict["slope_ci"][0] > 0  # growth the interval cannot mistake for noise
        finally:
            lane.close()
    finally:
        db.drop()


RATE = """
[sweep.rate]
writes_per_tick = {ladder}
max_writes_per_tick = {cap}
mix = {{ insert = 1.0 }}
"""


@pytest.mark.one_server
def test_bisection_finds_a_known_capacity(server, tmp_path):
    # 1 ms + 2 ms a write at T = 100 ms: at most 49 writes a tick keep max D ≤ T, and 24 keep ρ ≤ 0.5.
    path = spec_file(tmp_path, RATE.format(ladder="[12, 200]", cap=200), period="100ms")
    results, r = run(server, path, [overlay("reference", "known_capacity")], cost=per_row(ROW_SLEEP_MS))
    (compressed,) = [v["compressed"] for v in results["rate"].values()]
    probes = [t for t in r.ticks if t["sweep"].startswith("rate-bisection")]
    assert probes, "the limits came from the ladder alone"
    # One run answers for both limits: the planning search never re-runs a rate the hard search measured.
    runs = {(t["sweep"], t["point"]) for t in probes}
    assert len({point for _, point in runs}) == len(runs), sorted(runs)
    for name, most in (("hard", 49), ("planning", 24)):
        limit = compressed["limits"][name]
        lo, hi = limit["bracket"]
        assert limit["measured"], limit
        assert hi / lo <= 1.1 + 1e-9, limit  # narrowed to 10 %
        assert int(lo) <= most < int(hi), limit  # a probe runs int(w) writes: the bracket straddles the limit


@pytest.mark.one_server
def test_a_limit_beyond_the_search_is_extrapolated_and_says_so(server, tmp_path):
    # 1 ms + 2 ms a write at T = 200 ms: every point keeps up, and the line reaches T at 99.5 writes a tick.
    path = spec_file(tmp_path, RATE.format(ladder="[5, 50]", cap=60))
    results, _ = run(server, path, [overlay("reference", "known_capacity")], cost=per_row(ROW_SLEEP_MS))
    (compressed,) = [v["compressed"] for v in results["rate"].values()]
    hard = compressed["limits"]["hard"]
    assert hard["measured"] is False and hard["largest_measured"] == 50, hard
    assert hard["model"]["b_ms_per_write"] == pytest.approx(ROW_SLEEP_MS), hard
    assert hard["writes_per_tick"] == pytest.approx(99.5), hard


GATE = """
[sweep.keys]
points = [10, 100]
explain = false

[budget]
floor_ms = 25.0
tick_p95 = 1.5
idle_tick = 2.0
writer_p99 = 1.5
"""


def test_gate_exits_1_on_an_injected_slowdown_and_names_the_point(tmp_path, monkeypatch):
    # 5 ms a bucket against the baseline's 0.2: 51 ms against 3 at k = 10, 25 ms and 17× past the floor and limit.
    monkeypatch.setattr(CapacityRun, "cost", staticmethod(per_bucket(1.0, 5.0, 0.2, "same")))
    path = spec_file(tmp_path, GATE)
    out = CliRunner().invoke(app, ["capacity", str(path), "--target", overlay("reference", "same"),
                                   "--baseline", "reference", "--report-dir", str(tmp_path / "report"),
                                   "--json", str(tmp_path / "result.json")])
    assert out.exit_code == 1, out.output
    assert "OVER BUDGET" in out.output and "keys k=10" in out.output, out.output
    assert (tmp_path / "report" / "index.html").exists()
    # Sequential: past its budget with confidence after the first point's pairs, the target measured no more.
    result = json.loads((tmp_path / "result.json").read_text())
    (label, stop), = result["stopped"].items()
    assert stop["point"] == "10" and stop["low"] > 1.5 and stop["n"] == 3, stop
    assert [p["k"] for p in result["keys"][label]["points"]] == [10], result["keys"][label]
    # Every target stopped: the baseline alone would decide nothing, so the run measured no further point.
    assert [p["k"] for p in result["keys"]["reference@pg18"]["points"]] == [10]


def test_a_report_that_does_not_stop_early_measures_every_point_and_still_fails_the_budget(tmp_path, monkeypatch):
    monkeypatch.setattr(CapacityRun, "cost", staticmethod(per_bucket(1.0, 5.0, 0.2, "same")))
    path = spec_file(tmp_path, GATE.replace("[budget]", "[budget]\nstop_early = false"))
    out = CliRunner().invoke(app, ["capacity", str(path), "--target", overlay("reference", "same"),
                                   "--baseline", "reference", "--json", str(tmp_path / "result.json"),
                                   "--report-dir", str(tmp_path / "report")])
    assert out.exit_code == 1 and "OVER BUDGET" in out.output, out.output
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["stopped"] == {}
    assert all([p["k"] for p in s["points"]] == [10, 100] for s in result["keys"].values()), result["keys"]
    failed = {c["point"] for c in result["budget"]["checks"] if not c["ok"]}
    assert {"keys k=10", "keys k=100"} <= failed, result["budget"]["checks"]


def test_gate_exits_0_on_the_baseline_against_itself(tmp_path, monkeypatch):
    monkeypatch.setattr(CapacityRun, "cost", staticmethod(per_bucket(1.0, 0.2, 0.2, "")))
    path = spec_file(tmp_path, GATE)
    out = CliRunner().invoke(app, ["capacity", str(path), "--target", overlay("reference", "same"),
                                   "--baseline", "reference", "--report-dir", str(tmp_path / "report"),
                                   "--json", str(tmp_path / "result.json")])
    assert out.exit_code == 0, out.output
    verdict = json.loads((tmp_path / "result.json").read_text())["budget"]
    checks = [c for c in verdict["checks"] if c["figure"] == "tick"]
    assert verdict["ok"] and len(checks) == 2, verdict  # both points were compared, not skipped
    assert all(c["paired"] and c["n"] >= 3 and c["ratio"] == pytest.approx(1.0) for c in checks), checks


@pytest.mark.parametrize("args, message", [
    (["--pg", "nowhere"], "--pg 'nowhere'"),
    (["--target", "/no/such/dir"], "is not a directory"),
    (["--target", "reference", "--target", "hardened"], "name the --baseline"),
    (["--target", "hardened"], "name the --baseline"),  # one target too: a budget is never silently unjudged
])
def test_capacity_bad_input_exits_2_with_one_line(tmp_path, args, message):
    path = spec_file(tmp_path, GATE)
    out = CliRunner().invoke(app, ["capacity", str(path), *args])
    assert out.exit_code == 2 and message in out.output, out.output


def test_capacity_bad_spec_names_file_line_and_key(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[capacity]\nname = "bad"\nrepetitions = 1\n')
    out = CliRunner().invoke(app, ["capacity", str(path)])
    assert out.exit_code == 2 and "bad.toml:3: capacity.repetitions" in out.output, out.output


@pytest.mark.slow
@pytest.mark.one_server
def test_live_mode_keeps_the_open_loop_rate_and_judges_ticks_on_the_wall_clock(server, tmp_path):
    # 20 ms a write (injected): at 0.2 s a tick, 1 write a tick keeps up (ρ ≈ 0.1), 40 cannot (ρ ≈ 4; even at half
    # the rate, should the writers fall behind on a busy machine, ρ ≈ 2).
    body = RATE.format(ladder="[1, 40]", cap=40) + 'modes = ["live"]\nlive_period = "200ms"\n'
    results, _ = run(server, spec_file(tmp_path, body), [overlay("reference", "known_capacity")], cost=per_row(20.0))
    (live,) = [v["live"] for v in results["rate"].values()]
    low, high = live["points"]
    assert low["write_errors"] == 0 and high["write_errors"] == 0, live["points"]
    assert low["writes_done"] > 0 and low["writer_p99_ms"] > 0
    assert low["sustainable"] and not high["sustainable"], (low, high)
    assert live["limits"]["hard"]["bracket"] == [1, 40]  # live limits come from the ladder, not bisection


@pytest.mark.one_server
def test_a_target_whose_tick_passes_its_cap_is_cancelled_and_stops_the_run(server, tmp_path, monkeypatch):
    # The cap is TICK_CAP × the baseline's slowest tick (at least 100 ms); made 1 ms here, and known_capacity's
    # every tick over a usage row sleeps 2 ms, so its first such tick is cancelled wherever it falls (its preload's
    # settling ticks, its lane's warm-up, or the first keys point): a lower bound, whatever the machine's load.
    from bench.capacity import stops

    monkeypatch.setattr(stops, "TICK_CAP", 0.001)
    path = spec_file(tmp_path, GATE)
    slow = overlay("reference", "known_capacity")
    results, r = run(server, path, ["reference", slow], baseline="reference")
    (label, stop), = results["stopped"].items()
    assert label.startswith("known_capacity") and "cancelled" in stop["why"] and stop["cap_ms"] <= 1, stop
    assert not (results["keys"].get(label) or {}).get("points")
    assert len((results["keys"].get("reference@pg18") or {}).get("points") or []) <= 1  # stopped with it
    from bench.capacity.budget import evaluate

    verdict = evaluate(results, r.spec.budget, "reference", r.spec.period)
    assert not verdict["ok"] and any("cancelled" in (c.get("why") or "") for c in verdict["checks"]), verdict
