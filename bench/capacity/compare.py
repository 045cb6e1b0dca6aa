"""Run-to-run agreement: two capacity results of the same spec, point by point. Each point's median in the second
run as a ratio to the first; a point whose ratio leaves 1 ± tolerance disagrees, unless both medians are under
a noise floor, if one is given (none by default: a writer's median of a few hundred sub-millisecond operations is
a measurement like any other). This is how "the same spec gives medians within 15 %" is checked, not assumed. Beside each
ratio goes whether the two runs' min–max ranges overlap: medians apart while ranges overlap is repetitions
scattered wider than the tolerance; disjoint ranges are a figure that moved.

The budgets judge targets against the baseline within one run, so `paired` checks that too: each target's median
÷ its server's baseline median at the same point, second run against first. A machine that drifts between runs
moves both sides of a pair alike; a paired ratio that moves is the comparison itself being unstable.

Each run also times a fixed piece of CPU work before every repetition (`noise.py`): `machine` gives its median
ratio per server and sweep, second run over first, and each point's ratio is also shown scaled by its sweep's —
how far a point moved beyond what the machine itself did meanwhile."""

from __future__ import annotations

Figure = tuple[float, float | None, float | None]  # median, min, max (ms); no range where a result keeps none


def _t(t: dict, scale: float = 1.0, unit: str = "") -> Figure:
    """A {median, min, max} timing (keys suffixed by `unit`) in milliseconds."""
    lo, hi = t.get(f"min{unit}"), t.get(f"max{unit}")
    return (t[f"median{unit}"] * scale, None if lo is None else lo * scale, None if hi is None else hi * scale)


def medians(results: dict) -> dict[tuple[str, str], Figure]:
    """(configuration, point) -> (median, min, max) in milliseconds, for every point a result has a median for."""
    out: dict[tuple[str, str], Figure] = {}
    for label, s in (results.get("keys") or {}).items():
        for p in s.get("points") or []:
            out[(label, f"keys k={p['k']}")] = _t(p, unit="_ms")
    for label, hs in (results.get("history") or {}).items():
        for h in hs:
            out[(label, f"history {h['rows']:,} rows: change tick")] = _t(h["change_ms"])
            out[(label, f"history {h['rows']:,} rows: idle tick")] = _t(h["idle_ms"])
    for label, s in (results.get("density") or {}).items():
        for p in s.get("points") or []:
            out[(label, f"density {p['h']:,} rows an hour")] = _t(p, unit="_ms")
    for label, by_rows in (results.get("crossover") or {}).items():
        for rows, c in by_rows.items():
            if c.get("full_ms") and c.get("full_from", label) == label:  # measured once, on the base template
                out[(label, f"crossover {int(rows):,} rows: full rebuild")] = _t(c["full_ms"])
            for p in c.get("points") or []:
                out[(label, f"crossover {int(rows):,} rows: incremental at {p['fraction']:.2%}")] = \
                    _t(p["incremental_ms"])
    for label, modes in (results.get("rate") or {}).items():
        for mode, s in modes.items():
            ms = (s.get("period_s") or results["period_s"]) * 1000  # live mode runs on its own period
            for p in s.get("points") or []:  # (its rho_range is of the repetitions' max ρ, not of this median)
                out[(label, f"rate {mode} {p['writes_per_tick']} writes/tick: median D")] = (p["rho_median"] * ms,
                                                                                          None, None)
    for label, w in (results.get("writers") or {}).items():
        for op, states in (w.get("ops") or {}).items():
            for state, t in states.items():
                out[(label, f"writer {op} ({state})")] = _t(t, 1 / 1000, "_us")
    return out


def verdicts(results: dict) -> dict[tuple[str, str], bool]:
    """(configuration, point) -> sustainable, for every rate point (its key as in `medians`)."""
    return {(label, f"rate {mode} {p['writes_per_tick']} writes/tick: median D"): bool(p.get("sustainable"))
            for label, modes in (results.get("rate") or {}).items() for mode, s in modes.items()
            for p in s.get("points") or []}


def machine(first: dict, second: dict) -> dict[str, dict]:
    """Per server both runs sampled: the fixed work's median in each (ms), the ratio, the ratio during each sweep
    both sampled, and each run's own spread."""
    a, b = first.get("fixed_work") or {}, second.get("fixed_work") or {}
    out = {}
    for pg in sorted(a.keys() & b.keys()):
        if a[pg] and b[pg]:
            x, y = a[pg].get("by_sweep") or {}, b[pg].get("by_sweep") or {}
            out[pg] = {"first_ms": a[pg]["median"], "second_ms": b[pg]["median"],
                       "ratio": b[pg]["median"] / a[pg]["median"], "spreads": (a[pg]["spread"], b[pg]["spread"]),
                       "slow": (a[pg].get("slow"), b[pg].get("slow")),
                       "by_sweep": {sw: y[sw] / x[sw] for sw in x.keys() & y.keys()}}
    return out


def _sweep(point: str) -> str:
    """The sweep (as the run tags its samples) a point of `medians` was measured in."""
    if point.startswith("crossover"):
        return "crossover-full" if point.endswith("full rebuild") else "crossover"
    if point.startswith("rate"):
        return "rate-live" if point.startswith("rate live") else "rate"
    return point.split(" ")[0]


def compare(first: dict, second: dict, tolerance: float = 0.15, floor_ms: float = 0.0) -> list[dict]:
    """Every point both results measured: the medians, their ratio, whether they agree, and whether the two
    runs' ranges overlap (None where a result keeps none); `scaled` is the ratio over the machine's own during
    the point's sweep (over the whole run's where the sweep took no samples; None where a run took none);
    `min_ratio` the fastest repetitions' ratio, which a slow spell of the machine moves least (None without
    ranges), judged by the same rule in `min_ok`.

    A rate both runs found unsustainable is `overloaded`: its D measures a backlog that grows by the periods each
    overrun skipped (a step function of D ÷ T) and a run that stops after a few ticks, so its agreement is the
    verdict, not the tolerance. A rate point whose verdict differs between the runs disagrees whatever its D."""
    a, b = medians(first), medians(second)
    va, vb = verdicts(first), verdicts(second)
    drift = machine(first, second)
    server = {c["label"]: c["pg"] for c in first.get("configs") or []}
    rows = []
    for key in sorted(a.keys() & b.keys()):
        (x, xlo, xhi), (y, ylo, yhi) = a[key], b[key]
        ratio = y / x if x else None
        noise = max(x, y) < floor_ms
        same_verdict = va.get(key) == vb.get(key)
        overloaded = same_verdict and va.get(key) is False

        def agrees(r: float | None) -> bool:  # one rule for the ratio, the scaled ratio and the minima's
            return same_verdict and (noise or overloaded or (r is not None and abs(r - 1) <= tolerance))

        ranged = None not in (xlo, xhi, ylo, yhi)
        m = drift.get(server.get(key[0]))
        m = m and m["by_sweep"].get(_sweep(key[1]), m["ratio"])
        scaled = ratio / m if ratio is not None and m else None
        least = ylo / xlo if ranged and xlo else None
        rows.append({"config": key[0], "point": key[1], "first_ms": x, "second_ms": y, "ratio": ratio,
                     "under_floor": noise, "overloaded": overloaded, "verdict_moved": not same_verdict,
                     "ok": agrees(ratio), "overlap": (xlo <= yhi and ylo <= xhi) if ranged else None,
                     "scaled": scaled, "scaled_ok": agrees(scaled), "min_ratio": least, "min_ok": agrees(least)})
    return rows


def _baselines(results: dict) -> dict[str, str]:
    """Each non-baseline configuration's label -> the label of the baseline target on its server."""
    configs = results.get("configs") or []
    base = {c["pg"]: c["label"] for c in configs if c["target"] == results.get("baseline")}
    return {c["label"]: base[c["pg"]] for c in configs if c["pg"] in base and c["label"] != base[c["pg"]]}


def paired(first: dict, second: dict, tolerance: float = 0.15, floor_ms: float = 0.0) -> list[dict]:
    """Every (target, point) both runs measured on the target and its baseline: target ÷ baseline in each run,
    and the second's ratio over the first's. Pairs with a median under the noise floor are left out."""
    a, b = medians(first), medians(second)
    pairs, again, both = _baselines(first), _baselines(second), a.keys() & b.keys()
    rows = []
    for label, point in sorted(both):
        base = pairs.get(label)
        if base is None or again.get(label) != base or (base, point) not in both:
            continue
        figures = [a[(label, point)][0], a[(base, point)][0], b[(label, point)][0], b[(base, point)][0]]
        if min(figures) < floor_ms:
            continue
        r1, r2 = figures[0] / figures[1], figures[2] / figures[3]
        rows.append({"config": label, "baseline": base, "point": point, "first": r1, "second": r2,
                     "drift": r2 / r1, "ok": abs(r2 / r1 - 1) <= tolerance})
    return rows
