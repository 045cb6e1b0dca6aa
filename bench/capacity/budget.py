"""Budgets: a performance gate that holds on a busy machine. Every budget is a paired ratio: a target's figure
against the baseline target's on the same server, repetition by repetition of the same run (rotated order), with
a 95 % interval (bench/capacity/paired.py). A difference under `floor_ms` passes whatever its ratio: at a
millisecond, scheduling noise alone exceeds 1.5×. The one absolute bound, ρ at the planning rate, is judged at
the production period on the cost model's prediction and its interval (bench/capacity/plan.py), never on a
shortened period's measurement."""

from __future__ import annotations

from bench.capacity import paired
from bench.capacity.spec import Budget


def _points(results: dict, label: str) -> dict[tuple[str, str], tuple[str, list[float]]]:
    """(figure, point) -> (budget key, per-repetition figures in repetition order) for one configuration."""
    out = {}
    for p in results.get("keys", {}).get(label, {}).get("points", []):
        out[("tick", f"keys k={p['k']}")] = ("tick_p95", p.get("samples_ms") or [])
        out[("writes", f"keys k={p['k']}")] = ("write_cost", p.get("write_samples_ms") or [])
    for h in results.get("history", {}).get(label, []):
        change = h.get("change_samples_ms") or []
        out[("tick", f"history {h['rows']:,} rows, {h['change_keys']} keys")] = ("tick_p95", change)
        out[("idle tick", f"history {h['rows']:,} rows")] = ("idle_tick", h.get("idle_samples_ms") or [])
    for p in results.get("density", {}).get(label, {}).get("points", []):
        out[("tick", f"density {p['h']:,} rows an hour")] = ("tick_p95", p.get("samples_ms") or [])
    for rows, c in results.get("crossover", {}).get(label, {}).items():
        for p in c["points"]:
            point = f"crossover {int(rows):,} rows, {p['fraction']:.2%}"
            out[("tick", point)] = ("tick_p95", p.get("samples_ms") or [])
    for p in results.get("rate", {}).get(label, {}).get("compressed", {}).get("points", []):
        out[("tick p95", f"rate {p['writes_per_tick']} writes/tick")] = ("tick_p95", p.get("rep_p95_ms") or [])
        out[("writes", f"rate {p['writes_per_tick']} writes/tick")] = ("write_cost", [x or 0.0 for x in
                                                                                   p.get("rep_write_ms") or []])
    for p in results.get("writers", {}).get(label, {}).get("concurrency", []):
        out[("writer p99", f"{p['state']}, {p['writers']} writers")] = ("writer_p99", [p["p99_ms"]])
    return out


def _check(c: dict, figure: str, point: str, limit: float, **more) -> dict:
    return {"target": c["target"], "pg": c["pg"], "figure": figure, "point": point, "limit": limit, **more}


def evaluate(results: dict, budget: Budget, baseline: str | None, period: float, plans: dict | None = None) -> dict:
    """Every budget of every configuration against its baseline; `plans` (label → plan at the production period,
    bench/capacity/plan.py) carry the absolute bound's prediction."""
    checks = []
    configs = results["configs"]
    stopped = results.get("stopped") or {}
    for c in configs:
        base = next((b for b in configs if b["target"] == baseline and b["pg"] == c["pg"]), None)
        if base and base is not c:
            if c["label"] in stopped:
                s = stopped[c["label"]]
                why = s.get("why") or (f"paired ratio {s['ratio']:.2f}× (95 % interval {s['low']:.2f}–{s['high']:.2f}"
                                       f" over {s['n']} pairs) past the budget {s['limit']:g}×")
                checks.append(_check(c, {"idle_tick": "idle tick", "write_cost": "writes"}.get(s["budget"], "tick"),
                                     f"{s['sweep']} {s['point']}", s["limit"], observed=s.get("diff_ms"),
                                     baseline=None, ratio=s.get("ratio"), low=s.get("low"), high=s.get("high"),
                                     n=s.get("n"), ok=False,
                                     why=f"stopped there: {why}, so the rest of the run was not measured"))
            mine, theirs = _points(results, c["label"]), _points(results, base["label"])
            for (figure, point), (key, values) in mine.items():
                limit = getattr(budget, key)
                if limit is None or (figure, point) not in theirs:
                    continue
                ref = theirs[(figure, point)][1]
                r = paired.ratio(list(zip(values, ref)))
                if r is None:
                    continue
                # A single unpaired figure (the concurrent writers, measured one configuration after the other) is
                # shown beside the budget but never fails it: on a busy machine it follows the machine.
                ok = not paired.over_budget(r, limit, budget.floor_ms) if r.n > 1 else True
                checks.append(_check(c, figure, point, limit, observed=sorted(values)[len(values) // 2],
                                     baseline=sorted(ref)[len(ref) // 2], ok=ok, paired=r.n > 1, **r.as_dict(),
                                     **({} if r.n > 1 else {"why": "unpaired: shown, not judged"})))
        plan = (plans or {}).get(c["label"])
        if stopped and (not plan or "why" in plan):
            continue  # a run cut short by a failed target: no model to judge the bound on, and the verdict is known
        if budget.rho_max is not None and budget.planning_rate:
            period_s = plan and (plan.get("period_s") or (plan.get("ask") or {}).get("period_s"))
            point = f"{budget.planning_rate:g} writes/s" + (f" at T = {period_s / 60:g} min" if period_s else "")
            if not plan or plan.get("rho_high") is None:
                checks.append(_check(c, "ρ at planning rate", point, budget.rho_max, observed=None, baseline=None,
                                     ratio=None, ok=False,
                                     why=(plan or {}).get("why") or "no cost model to predict it"))
            else:
                checks.append(_check(c, "ρ at planning rate", point, budget.rho_max, observed=plan["rho_high"],
                                     baseline=None, ratio=None, ok=plan["rho_high"] < budget.rho_max,
                                     why=f"predicted ρ {plan['rho']:.3g} (upper bound {plan['rho_high']:.3g})"))
    checks.sort(key=lambda x: x["ok"])
    return {"baseline": baseline, "ok": all(x["ok"] for x in checks), "checks": checks}
