"""Run-to-run agreement: two capacity results of the same spec, point by point. Each point's median in the second
run as a ratio to the first; a point whose ratio leaves 1 ± tolerance disagrees, unless both medians are under
the noise floor. This is how "the same spec gives medians within 15 %" is checked, not assumed."""

from __future__ import annotations


def medians(results: dict) -> dict[tuple[str, str], float]:
    """(configuration, point) -> median in milliseconds, for every point a result has a median for."""
    out: dict[tuple[str, str], float] = {}
    for label, s in (results.get("keys") or {}).items():
        for p in s.get("points") or []:
            out[(label, f"keys k={p['k']}")] = p["median_ms"]
    for label, hs in (results.get("history") or {}).items():
        for h in hs:
            out[(label, f"history {h['rows']:,} rows: change tick")] = h["change_ms"]["median"]
            out[(label, f"history {h['rows']:,} rows: idle tick")] = h["idle_ms"]["median"]
    for label, by_rows in (results.get("crossover") or {}).items():
        for rows, c in by_rows.items():
            if c.get("full_ms"):
                out[(label, f"crossover {int(rows):,} rows: full rebuild")] = c["full_ms"]["median"]
            for p in c.get("points") or []:
                out[(label, f"crossover {int(rows):,} rows: incremental at {p['fraction']:.2%}")] = \
                    p["incremental_ms"]["median"]
    for label, modes in (results.get("rate") or {}).items():
        for mode, s in modes.items():
            period = s.get("period_s") or results["period_s"]  # live mode runs on its own period
            for p in s.get("points") or []:
                out[(label, f"rate {mode} {p['writes_per_tick']} writes/tick: median D")] = p["rho_median"] * period * 1000
    for label, w in (results.get("writers") or {}).items():
        for op, states in (w.get("ops") or {}).items():
            for state, t in states.items():
                out[(label, f"writer {op} ({state})")] = t["median_us"] / 1000
    return out


def compare(first: dict, second: dict, tolerance: float = 0.15, floor_ms: float = 1.0) -> list[dict]:
    """Every point both results measured: the medians, their ratio, and whether they agree."""
    a, b = medians(first), medians(second)
    rows = []
    for key in sorted(a.keys() & b.keys()):
        x, y = a[key], b[key]
        ratio = y / x if x else None
        noise = max(x, y) < floor_ms
        ok = noise or (ratio is not None and abs(ratio - 1) <= tolerance)
        rows.append({"config": key[0], "point": key[1], "first_ms": x, "second_ms": y, "ratio": ratio,
                     "under_floor": noise, "ok": ok})
    return rows
