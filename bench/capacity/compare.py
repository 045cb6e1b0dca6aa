"""Run-to-run agreement: two capacity results of the same spec, point by point. Each point's median in the second
run as a ratio to the first; a point whose ratio leaves 1 ± tolerance disagrees, unless both medians are under
the noise floor. This is how "the same spec gives medians within 15 %" is checked, not assumed. Beside each
ratio goes whether the two runs' min–max ranges overlap: medians apart while ranges overlap is repetitions
scattered wider than the tolerance; disjoint ranges are a figure that moved."""

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
    for label, by_rows in (results.get("crossover") or {}).items():
        for rows, c in by_rows.items():
            if c.get("full_ms"):
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


def compare(first: dict, second: dict, tolerance: float = 0.15, floor_ms: float = 1.0) -> list[dict]:
    """Every point both results measured: the medians, their ratio, whether they agree, and whether the two
    runs' ranges overlap (None where a result keeps no range)."""
    a, b = medians(first), medians(second)
    rows = []
    for key in sorted(a.keys() & b.keys()):
        (x, xlo, xhi), (y, ylo, yhi) = a[key], b[key]
        ratio = y / x if x else None
        noise = max(x, y) < floor_ms
        ok = noise or (ratio is not None and abs(ratio - 1) <= tolerance)
        ranged = None not in (xlo, xhi, ylo, yhi)
        rows.append({"config": key[0], "point": key[1], "first_ms": x, "second_ms": y, "ratio": ratio,
                     "under_floor": noise, "ok": ok, "overlap": (xlo <= yhi and ylo <= xhi) if ranged else None})
    return rows
