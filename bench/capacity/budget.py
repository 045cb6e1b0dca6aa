"""Budgets: a performance gate. Each target's figures against the baseline target's on the same server, measured
in the same run, as ratios at every sweep point; plus absolute bounds. A difference under `floor_ms` passes
whatever its ratio: at a millisecond, scheduling noise alone exceeds 1.5×."""

from __future__ import annotations

from bench.capacity.spec import Budget


def _points(results: dict, label: str) -> dict[tuple[str, str], tuple[str, float]]:
    """(figure, point) -> (budget key, value) for one configuration: every tick p95, idle tick and writer p99."""
    out = {}
    for p in results.get("keys", {}).get(label, {}).get("points", []):
        out[("tick p95", f"keys k={p['k']}")] = ("tick_p95", p["p95_ms"])
    for h in results.get("history", {}).get(label, []):
        out[("tick p95", f"history {h['rows']:,} rows, {h['change_keys']} keys")] = ("tick_p95", h["change_ms"]["p95"])
        out[("idle tick", f"history {h['rows']:,} rows")] = ("idle_tick", h["idle_ms"]["median"])
    for rows, c in results.get("crossover", {}).get(label, {}).items():
        for p in c["points"]:
            out[("tick p95", f"crossover {int(rows):,} rows, {p['fraction']:.2%}")] = ("tick_p95", p["incremental_ms"]["p95"])
    for p in results.get("rate", {}).get(label, {}).get("compressed", {}).get("points", []):
        out[("tick p95", f"rate {p['writes_per_tick']} writes/tick")] = ("tick_p95", p["p95_ms"])
    for p in results.get("writers", {}).get(label, {}).get("concurrency", []):
        out[("writer p99", f"{p['state']}, {p['writers']} writers")] = ("writer_p99", p["p99_ms"])
    return out


def planning_writes(budget: Budget, period: float) -> int:
    """The ladder point that measures the planning rate: its writes per tick at period T."""
    return max(1, round(budget.planning_rate * period))


def evaluate(results: dict, budget: Budget, baseline: str | None, period: float) -> dict:
    checks = []
    configs = results["configs"]
    for c in configs:
        base = next((b for b in configs if b["target"] == baseline and b["pg"] == c["pg"]), None)
        mine = _points(results, c["label"])
        if base and base is not c:
            theirs = _points(results, base["label"])
            for (figure, point), (key, value) in mine.items():
                limit = getattr(budget, key)
                if limit is None or (figure, point) not in theirs:
                    continue
                ref = theirs[(figure, point)][1]
                ok = value <= limit * ref or value - ref <= budget.floor_ms
                checks.append({"target": c["target"], "pg": c["pg"], "figure": figure, "point": point,
                               "observed": value, "baseline": ref, "limit": limit,
                               "ratio": value / ref if ref else None, "ok": ok})
        if budget.rho_max is not None and budget.planning_rate:
            pts = results.get("rate", {}).get(c["label"], {}).get("compressed", {}).get("points", [])
            at = [p for p in pts if p["writes_per_tick"] == planning_writes(budget, period)]
            if not at:
                checks.append({"target": c["target"], "pg": c["pg"], "figure": "ρ at planning rate",
                               "point": f"{budget.planning_rate:g} writes/s", "observed": float("nan"),
                               "baseline": None, "limit": budget.rho_max, "ratio": None, "ok": False,
                               "why": "the planning rate was not measured"})
            for p in at:
                checks.append({"target": c["target"], "pg": c["pg"], "figure": "ρ at planning rate",
                               "point": f"{budget.planning_rate:g} writes/s", "observed": p["rho_max"],
                               "baseline": None, "limit": budget.rho_max, "ratio": None,
                               "ok": p["rho_max"] < budget.rho_max})
    checks.sort(key=lambda x: x["ok"])
    return {"baseline": baseline, "ok": all(x["ok"] for x in checks), "checks": checks}
