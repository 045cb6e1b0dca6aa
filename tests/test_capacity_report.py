"""The capacity report writer, on synthetic results (no database)."""

from __future__ import annotations

import re

from rich.console import Console

from bench.capacity.report import headline_markdown, summary_table, write_report

LABELS = ["reference@pg18", "hardened@pg15"]
ALLOWED_URLS = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


def _t(median, spread=0.2):
    return {"median": median, "min": median * (1 - spread), "max": median * (1 + spread), "p95": median * (1 + spread)}


def _limits(hard_measured: bool) -> dict:
    return {"hard": {"writes_per_tick": 6000.0, "rate_per_s": 20.0, "measured": hard_measured,
                     "largest_measured": 3000},
            "planning": {"writes_per_tick": 3000.0, "rate_per_s": 10.0, "measured": True, "largest_measured": 3000}}


def _label_results(i: int) -> dict:
    """One configuration's sections; the second label's hard limit is extrapolated."""
    keys = {"history_rows": 100_000,
            "points": [{"k": k, "median_ms": 2 + 0.01 * k, "min_ms": 1.8 + 0.01 * k, "max_ms": 2.5 + 0.01 * k,
                        "reps": 3} for k in (1, 10, 100, 1000)],
            "fit": {"a_ms": 2.0, "b_ms": 0.01, "r2": 0.99},
            "phases": [{"k": 1000, "statements": [{"query": "SELECT a\n  FROM b", "ms": 5.0, "shared_hit": 10,
                                                   "shared_read": 2, "temp_written": 0}]}]}
    history = [{"rows": rows, "prepare_s": 1.5, "verified": "ok", "change_keys": 100, "change_ms": _t(20.0),
                "idle_ms": _t(3.0 + i), "sizes": {"task_usage": rows * 100}} for rows in (10_000, 100_000)]
    points = [{"writes_per_tick": w, "rate_per_s": w / 300, "rho_median": w / 6000, "rho_max": w / 5000,
               "queue_slope": 0.0, "slope_ci": [-0.1, 0.1], "max_lag_s": 300.0, "sustainable": w < 6000,
               "writer_p99_ms": 1.2} for w in (300, 1000, 3000)]
    series = [{"writes_per_tick": w, "tick": t, "queue": w * t % 7, "lag_s": 300.0, "d_ms": 10.0}
              for w in (300, 3000) for t in range(5)]
    rate = {"compressed": {"points": points, "limits": _limits(hard_measured=i == 0), "series": series}}
    crossover = {"100000": {"points": [{"fraction": f, "keys": int(f * 1000), "incremental_ms": _t(100 * f),
                                        "full_ms": _t(20.0), "speedup": 20 / (100 * f)} for f in (0.01, 0.1, 0.5)],
                            "crossover_fraction": 0.2}}
    writers = {"ops": {"usage_insert": {s: {"median_us": m, "min_us": m * 0.9, "max_us": m * 1.1}
                                        for s, m in (("absent", 20.0), ("installed", 30.0), ("active", 40.0))}},
               "concurrency": [{"state": s, "writers": n, "tps": 1000.0 * n, "p50_ms": 1.0, "p99_ms": 2.0 * n}
                               for s in ("absent", "active") for n in (1, 4, 16)]}
    faults = {"db_down": {"series": [{"tick": t, "sim_minutes": 5.0 * t, "queue": 10 * t, "lag_s": 60.0 * t,
                                      "d_ms": 5.0} for t in range(10)],
                          "fault_ticks": [2, 5], "recovery_ticks": 3, "recovery_wall_s": 1.5}}
    return {"keys": keys, "history": history, "rate": rate, "crossover": crossover, "writers": writers,
            "faults": faults}


def _results() -> dict:
    per = [_label_results(i) for i in range(len(LABELS))]
    results = {
        "spec": "quick", "description": "a <synthetic> spec", "quick": True, "started": "2026-03-01T12:00:00+00:00",
        "elapsed_s": 12.5, "period_s": 300.0, "machine": {"cores": 4, "python": "3.12"},
        "configs": [{"label": lb, "target": lb.split("@")[0], "pg": lb.split("@")[1], "server_version": "18.0"}
                    for lb in LABELS],
        "baseline": "reference",
        "budget": {"baseline": "reference", "ok": False, "checks": [
            {"target": "hardened", "pg": "pg15", "figure": "idle tick", "point": "100000 rows", "observed": 3.0,
             "baseline": 3.0, "limit": 6.0, "ratio": 1.0, "ok": True},
            {"target": "hardened", "pg": "pg15", "figure": "writer p99", "point": "16 writers", "observed": 9.0,
             "baseline": 2.0, "limit": 4.0, "ratio": 4.5, "ok": False}]},
    }
    for section in ("keys", "history", "rate", "crossover", "writers", "faults"):
        results[section] = {lb: p[section] for lb, p in zip(LABELS, per)}
    return results


def test_full_report_is_self_contained(tmp_path):
    index = write_report(_results(), tmp_path)
    page = index.read_text()
    assert index == tmp_path / "index.html"
    assert page.count("<svg") == 5  # keys, rate, queue, crossover, writers
    assert "<script" not in page.lower()
    assert set(re.findall(r"https?://[^\s\"'<>)]+", page)) <= ALLOWED_URLS
    assert "a &lt;synthetic&gt; spec" in page  # text is escaped
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == [
        "crossover.svg", "keys.svg", "queue.svg", "rate.svg", "writers.svg"]
    assert (tmp_path / "results.json").read_text().startswith("{\n  ")


def test_markdown_headline_and_extrapolated_limit(tmp_path):
    write_report(_results(), tmp_path)
    md = (tmp_path / "report.md").read_text()
    assert headline_markdown(_results()) in md
    headline = [[c.strip() for c in r.strip("|").split("|")] for r in headline_markdown(_results()).splitlines()]
    assert headline[0] == ["figure", *LABELS]  # one column per configuration
    rows = {r[0]: r[1:] for r in headline[2:]}
    hard = rows["hard limit (writes/s)"]
    assert "(extrapolated)" in hard[1] and "(extrapolated)" not in hard[0]
    assert rows["writer installed/absent"][0] == "1.50×" and rows["writer active/absent"][0] == "2.00×"
    assert "![keys](plots/keys.svg)" in md


def test_summary_table_renders():
    console = Console(record=True, width=300)
    console.print(summary_table(_results()))
    text = console.export_text()
    assert all(lb in text for lb in LABELS) and "(extrapolated)" in text


def test_empty_sections_say_not_run(tmp_path):
    results = {"spec": "empty", "configs": [{"label": LABELS[0], "target": "reference", "pg": "pg18",
                                              "server_version": "18.0"}]}
    page = write_report(results, tmp_path).read_text()
    assert "<svg" not in page and page.count("not run") >= 6
    assert "not run" in (tmp_path / "report.md").read_text()
    assert "| idle tick (ms) | — |" in headline_markdown(results)
    Console(record=True).print(summary_table(results))


def test_budget_failures_first(tmp_path):
    write_report(_results(), tmp_path)
    budget = (tmp_path / "report.md").read_text().split("## Budget")[1]
    assert budget.index("| FAIL |") < budget.index("| ok |")
    page = (tmp_path / "index.html").read_text().split("<h2>Budget")[1]
    assert page.index("<tr class=bad><td>FAIL") < page.index("<td>ok</td>")


def test_a_live_mode_that_never_keeps_up_says_below_its_smallest_point(tmp_path):
    results = _results()
    nothing = {"writes_per_tick": None, "rate_per_s": None, "measured": True, "largest_measured": 40, "below": 10}
    results["rate"][LABELS[0]]["live"] = {"points": [], "period_s": 1.0, "series": [],
                                          "limits": {"hard": dict(nothing), "planning": dict(nothing)}}
    headline = {r.split("|")[1].strip(): r for r in headline_markdown(results).splitlines()}
    assert "live: < 10" in headline["hard limit (writes/s)"]  # 10 writes a 1-second period: below 10 writes/s
    write_report(results, tmp_path)
    md = (tmp_path / "report.md").read_text()
    assert "| reference@pg18 | live | hard | < 10 | < 10.00 | measured: no point measured keeps up | 40 |" in md


def test_the_machines_own_speed_is_in_the_report(tmp_path):
    r = _results() | {"fixed_work": {"embedded": {"median": 5.0, "min": 4.0, "max": 8.5, "n": 99, "spread": 0.9,
                                                  "by_sweep": {"keys": 5.0}}}}
    write_report(r, tmp_path)
    md = (tmp_path / "report.md").read_text()
    assert "fixed piece of CPU work took 5.00 ms (4.00–8.50, 99 samples" in md and "by 90% of its median" in md


def test_a_failed_tick_in_the_writers_tick_loop_is_shown_as_a_finding(tmp_path):
    r = _results()
    loops = [{"ticks": 40, "rows": 900, "failed": 0, "first_failure": None},
             {"ticks": 41, "rows": 800, "failed": 2, "first_failure": "DeadlockDetected: deadlock detected"}]
    for lb, loop in zip(LABELS, loops):
        r["writers"][lb]["tick_loop"] = loop
    write_report(r, tmp_path)
    md = (tmp_path / "report.md").read_text()
    assert f"| {LABELS[0]} | 40 | 900 | 0 |" in md
    assert f"| {LABELS[1]} | 41 | 800 | FAILED 2: DeadlockDetected: deadlock detected |" in md
