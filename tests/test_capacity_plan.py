"""The cost model, the plan at the production period and the report's first screen, on recorded figures (no
database, no clock)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from bench.capacity import model
from bench.capacity.plan import Ask, keys_per_tick, occupancy, per_bucket, plan, sentences
from bench.capacity.report import write_report
from tests.test_capacity_report import _results as report_results

FIXED, PER_KEY, PER_READ = 3.0, 0.05, 0.01  # ms, ms a key, ms a raw row re-read: the recorded world's true costs
DAYS = 14


def _recorded(noise: float = 0.03) -> dict:
    """A configuration's sweeps as a run records them, drawn from the known costs with seeded noise: a dirty key
    re-reads its bucket's rows, so the rows read grow with the history's density (rows over the same 14 days)."""
    rng = np.random.default_rng(5)
    keys_per_hour = 40.0

    def reads(k, rows):
        return k * rows / (DAYS * 24 * keys_per_hour)

    def ms(k, rows):
        return (FIXED + PER_KEY * k + PER_READ * reads(k, rows)) * float(rng.lognormal(0, noise))

    rows0 = 100_000
    keys = {"history_rows": rows0, "keys_total": keys_per_hour * DAYS * 24, "points": [
        {"k": k, "samples_ms": [ms(k, rows0) for _ in range(3)], "read_samples": [reads(k, rows0)] * 3}
        for k in (1, 10, 100, 1000)],
        "validation": [{"k": 100, "rows": rows0, "predicted_ms": 10.0, "measured_ms": 10.5, "ratio": 1.05},
                       {"k": 1000, "rows": rows0, "predicted_ms": 55.0, "measured_ms": 54.0, "ratio": 0.98}]}
    history = [{"rows": r, "change_keys": 500, "change_samples_ms": [ms(500, r) for _ in range(3)],
                "change_reads": [reads(500, r)] * 3, "idle_samples_ms": [ms(0, r) for _ in range(3)],
                "idle_reads": [0.0] * 3} for r in (rows0, 1_000_000)]
    return {"configs": [{"label": "ref@pg18", "target": "reference", "pg": "embedded"}],
            "keys": {"ref@pg18": keys}, "history": {"ref@pg18": history},
            "world": {"rows": rows0, "days": DAYS, "workspaces": 8, "bytes_per_row": 300.0,
                      "mix": {"insert": 0.8, "rereport": 0.15, "delete": 0.03, "reassign": 0.02}}}


def test_nnls_never_gives_a_negative_intercept_where_least_squares_does():
    # Steep growth from a cheap first point: the least-squares line's intercept is negative (the report's old a).
    pts = [(1, 1e5, 13.0), (10, 1e5, 14.0), (100, 1e5, 20.0), (1000, 1e5, 700.0)]
    slope, intercept = np.polyfit([p[0] for p in pts], [p[2] for p in pts], 1)
    assert intercept < 0
    m = model.fit(pts)
    assert m.term("fixed") >= 0 and m.term("per_key") > 0 and m.at(1, 1e5) > 0


def test_the_model_recovers_the_recorded_costs_and_states_its_fit():
    m = model.fit(model.samples(_recorded(), "ref@pg18"))
    assert m.terms == ("fixed", "per_key", "per_read")
    assert m.term("fixed") == pytest.approx(FIXED, rel=0.15)
    assert m.term("per_key") == pytest.approx(PER_KEY, rel=0.15)
    assert m.term("per_read") == pytest.approx(PER_READ, rel=0.15)
    assert m.r2 > 0.99 and 0.9 < m.spread["p50"] < 1.1 and m.spread["p99"] >= m.spread["p50"]
    lo, hi = m.interval(100, 1000)
    assert lo <= m.at(100, 1000) <= hi


def test_without_rows_read_the_model_has_no_read_term():
    r = _recorded()
    for p in r["keys"]["ref@pg18"]["points"]:
        p.pop("read_samples")
    r["history"]["ref@pg18"] = []
    assert model.fit(model.samples(r, "ref@pg18")).terms == ("fixed", "per_key")


def test_the_plan_answers_at_the_production_period():
    r = _recorded() | {"machine": {"ram_gb": 64.0}}
    p = plan(r, "ref@pg18", Ask(writes_per_second=5, history_days=90, period_s=300))
    at = p["at"]
    assert at["writes_per_tick"] == 1500
    assert at["rows"] == pytest.approx(5 * 0.8 * 86400 * 90)
    assert at["interval_ms"][0] <= at["p50_ms"] <= at["p99_ms"] <= at["interval_ms"][1] * 1.0001
    assert p["rho"] == pytest.approx(at["p50_ms"] / 300_000)
    assert "settles_at" in p["queue"] and p["lag"]["settles_at_s"] >= 300
    # The limits are where the predicted p99 tick meets T (hard) and T/2 (planning), the history growing with it.
    hard, planning = p["limits"]["hard"], p["limits"]["planning"]
    assert 0 < planning < hard < 1e9
    top = plan(_recorded(), "ref@pg18", Ask(writes_per_second=hard, history_days=90))["at"]["p99_ms"]
    assert top == pytest.approx(300_000, rel=0.01)
    assert p["history_passes_T"]["rows"] is None and "history's length" in p["history_passes_T"]["why"]
    assert [s["factor"] for s in p["scaled"]] == [1, 10, 100]
    assert p["scaled"][2]["dominant"] == "per_read" and p["scaled"][2]["history_gb"] > p["scaled"][0]["history_gb"]
    assert p["scaled"][0]["binds"].startswith("CPU") and p["scaled"][2]["binds"].startswith("I/O"), p["scaled"]
    text = sentences(p)
    assert "5 writes/s" in text and "extrapolated beyond what was validated" in text


def test_past_the_limit_the_queue_and_lag_grow_and_say_by_how_much():
    p = plan(_recorded(), "ref@pg18", Ask(writes_per_second=5000, history_days=90))
    assert p["rho_high"] > 1
    assert p["queue"]["growth_per_hour"] > 0 and p["lag"]["growth_s_per_hour"] > 0


def test_keys_per_tick_saturates_an_hours_keys_for_inserts():
    assert keys_per_tick(10, 1000, 1.0) == pytest.approx(10, rel=0.01)
    assert keys_per_tick(1e6, 1000, 1.0) == pytest.approx(1000)
    assert keys_per_tick(1e6, 1000, 0.8) == pytest.approx(1000 + 0.2e6)


def test_the_first_screen_holds_the_verdict_and_the_plan_before_any_plot_and_no_nan(tmp_path):
    r = report_results()
    rec = _recorded()
    keys = r["keys"]["reference@pg18"]
    for p, recorded in zip(keys["points"], rec["keys"]["ref@pg18"]["points"]):
        p["samples_ms"] = recorded["samples_ms"]
    keys |= {"keys_total": 13_440, "validation": rec["keys"]["ref@pg18"]["validation"]}
    for h, recorded in zip(r["history"]["reference@pg18"], rec["history"]["ref@pg18"]):
        h |= {k: v for k, v in recorded.items() if k.endswith("samples_ms")}
    r["world"] = rec["world"]
    r["rate"]["reference@pg18"]["compressed"]["points"][0] |= {"queue_slope": float("nan"),
                                                              "slope_ci": [float("nan"), float("nan")]}
    r["plan"] = {"reference@pg18": plan(r, "reference@pg18", Ask(writes_per_second=50))}
    page = write_report(r, tmp_path).read_text()
    body = page[page.index("<body>"):]
    first_plot = min(i for i in (body.find("<svg"), body.find("<figure"), body.find("<img")) if i >= 0)
    verdict, planned = body.find("Verdict: OVER BUDGET"), body.find("Plan at the production period")
    assert 0 <= verdict < planned < first_plot, (verdict, planned, first_plot)
    # About the first 1,000 px: the verdict and the plan's sentences within the body's first 4,000 characters.
    assert planned < 4000 and body.find("writes/s with 90 days of history") < 4000
    assert body.find("Held-out points") < first_plot and "measured ÷ predicted" in body
    assert not re.search(r"\bnan\b", page, re.IGNORECASE), re.findall(r".{40}\bnan\b.{20}", page, re.I)[:3]
    assert "not measured" in page


def test_capacity_plan_answers_from_a_result_and_refuses_bad_input(tmp_path):
    import json

    from typer.testing import CliRunner

    from bench.cli.main import app

    result = tmp_path / "results.json"
    result.write_text(json.dumps(_recorded()))
    out = CliRunner().invoke(app, ["capacity-plan", str(result), "--writes-per-second", "50", "--history", "90d",
                                   "--json", str(tmp_path / "plan.json")])
    assert out.exit_code == 0, out.output
    assert "ref@pg18 at 50 writes/s with 90 days of history (T = 5 min)" in " ".join(out.output.split())
    assert json.loads((tmp_path / "plan.json").read_text())["ref@pg18"]["ask"]["writes_per_second"] == 50
    for args, message in ((["--history", "ninety"], "--history 'ninety'"), (["--tenants", "0"], "--tenants 0"),
                          (["--target", "nope"], "--target nope")):
        out = CliRunner().invoke(app, ["capacity-plan", str(result), "--writes-per-second", "5", *args])
        assert out.exit_code == 2 and out.output.startswith("error:") and message in out.output, out.output
    out = CliRunner().invoke(app, ["capacity-plan", str(tmp_path / "none.json"), "--writes-per-second", "5"])
    assert out.exit_code == 2 and "not a capacity result" in out.output, out.output


def test_a_held_out_point_is_predicted_from_the_points_before_it():
    pts = _recorded(noise=0.0)["keys"]["ref@pg18"]["points"]
    assert model.predict_next(pts[:1], 100) is None  # one point fits no line
    predicted = model.predict_next(pts[:2], 100)
    truth = FIXED + PER_KEY * 100 + PER_READ * pts[2]["read_samples"][0]
    assert predicted == pytest.approx(truth, rel=0.01)


def _hours(scope: str) -> dict:
    """A density sweep as recorded: a fresh hour of h rows occupies keys(h) buckets (saturating at 400); each
    bucket's tick reads its whole hour (`hour`) or its own key's rows (`key`), plus the window's h rows."""
    def keys(h):
        return 400 * (1 - np.exp(-h / 400))

    def reads(h):
        return h + keys(h) * (h if scope == "hour" else h / keys(h))

    pts = [{"h": h, "keys_samples": [keys(h)] * 3, "read_samples": [reads(h)] * 3,
            "samples_ms": [FIXED + PER_KEY * keys(h) + PER_READ * reads(h)] * 3} for h in (100, 1000, 10_000)]
    r = _recorded()
    r["density"] = {"ref@pg18": {"history_rows": 100_000, "points": pts, "skipped": [], "validation": []}}
    return r


def test_the_plan_scales_the_rows_a_bucket_reads_as_the_density_sweep_measured_them():
    ask = Ask(writes_per_second=2, history_days=90)  # an hour of 5,760 rows: inside the measured 100–10,000
    hour, key, assumed = (plan(r, "ref@pg18", ask) for r in (_hours("hour"), _hours("key"), _recorded()))
    h = 2 * 0.8 * 3600
    # Each recomputed bucket reads the hour's rows (hour scope) or its own (key scope): the reads differ by about
    # the keys an hour holds, and so do the ticks' per-row costs.
    per_bucket = {name: (p["at"]["reads"] - p["at"]["writes_per_tick"]) / p["at"]["keys"]
                  for name, p in (("hour", hour), ("key", key))}
    assert per_bucket["hour"] == pytest.approx(h, rel=0.1), per_bucket
    assert per_bucket["key"] < h / 50, per_bucket
    assert hour["at"]["p50_ms"] > 10 * key["at"]["p50_ms"]
    assert hour["reads"] == key["reads"] == "measured" and assumed["reads"] == "assumed"
    assert "assumed" in sentences(assumed) and "assumed" not in sentences(hour)
    assert "rows an hour" not in hour["at"]["extrapolated"]
    far = plan(_hours("hour"), "ref@pg18", Ask(writes_per_second=50, history_days=90))
    assert "rows an hour" in far["at"]["extrapolated"] and "extrapolated" in sentences(far)


def test_occupancy_and_a_buckets_reads_are_fitted_on_the_measured_hours():
    k = 400.0
    pts = [(n, k * -np.expm1(-n / k)) for n in (100.0, 1000.0, 10_000.0)]  # rows landing at random on 400 keys
    assert occupancy(pts) == pytest.approx(k, rel=1e-3)
    assert occupancy(pts[:1]) == pytest.approx(k, rel=1e-3)  # one point fixes K too
    assert per_bucket([(100.0, 60.0), (1000.0, 150.0), (10_000.0, 1050.0)]) == pytest.approx((50.0, 0.1), rel=1e-6)
    assert per_bucket([(1000.0, 5000.0)]) == (0.0, 5.0)  # one point: all of it in proportion to the hour
    assert per_bucket([(100.0, 50.0), (1000.0, 20.0)])[1] == 0.0  # never a negative term


def test_the_plan_is_checked_end_to_end_against_the_rate_sweeps_ticks():
    r = _hours("hour") | {"period_s": 0.1}
    r["rate"] = {"ref@pg18": {"compressed": {"points": [{"writes_per_tick": 300, "rho_median": 2.0}]}}}
    p = plan(r, "ref@pg18", Ask(writes_per_second=5, history_days=90))
    (e2e,) = [v for v in p["validation"] if "writes_per_tick" in v]
    at = plan(r, "ref@pg18", Ask(writes_per_second=1, history_days=14))["at"]  # 300 writes a 5-minute tick
    assert e2e["predicted_ms"] == pytest.approx(at["p50_ms"]) and e2e["measured_ms"] == pytest.approx(200.0)
    assert e2e["ratio"] == pytest.approx(200.0 / at["p50_ms"])


@pytest.mark.parametrize("slow, busy", [(0.83, True), (0.05, False)])
def test_a_plan_measured_on_a_busy_machine_says_so(slow, busy):
    r = _recorded() | {"fixed_work": {"embedded": {"slow": slow, "spread": 3.0}}}
    text = sentences(plan(r, "ref@pg18", Ask(writes_per_second=5)))
    assert ("machine was busy" in text) is busy, text
