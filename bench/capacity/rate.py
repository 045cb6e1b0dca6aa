"""Sweep (c): the write-rate ladder and the maximum sustainable rate.

Compressed mode measures each ladder point `repetitions` times (rotated), then narrows each configuration's two
limits by bisection to 10 %, one run per probe: the hard limit (sustainable: max ρ ≤ 1, queue slope's interval
holds 0, lag ≤ 2T) and the planning limit (sustainable with max ρ ≤ 0.5). When the ladder's top, extended up to
`max_writes_per_tick`, is still within a limit, that limit is extrapolated from the fitted D = a + b·w and
marked so, with the largest point measured. Live mode runs the ladder as open-loop rates and reports what it
measured; its limits come from the same rule."""

from __future__ import annotations

from dataclasses import dataclass

from bench.capacity import stats
from bench.capacity.lane import Lane
from bench.capacity.probe import TickCapped
from bench.capacity.live import live_point
from bench.capacity.sweeps import judge, steady

GROWTH = 4  # how far the ladder is extended past its top while every configuration still keeps up


def _planning(v: dict) -> bool:
    return v["sustainable"] and v["rho_max"] <= 0.5


def _combine(verdicts: list[dict], w: int, period: float) -> dict:
    rhos = [v["rho_max"] for v in verdicts]
    return {"writes_per_tick": w, "rate_per_s": w / period, "rho_max": stats.spread(rhos)["median"],
            "rho_range": [min(rhos), max(rhos)], "rho_median": stats.spread([v["rho_median"] for v in verdicts])["median"],
            "queue_slope": verdicts[0]["queue_slope"], "slope_ci": verdicts[0]["slope_ci"],
            "max_lag_s": max(v["max_lag_s"] for v in verdicts), "p95_ms": stats.spread([v["p95_ms"] for v in verdicts])["median"],
            "sustainable": sum(v["sustainable"] for v in verdicts) * 2 > len(verdicts),
            "planning_ok": sum(_planning(v) for v in verdicts) * 2 > len(verdicts), "reps": len(verdicts),
            "writer_p99_ms": None, "rep_p95_ms": [v["p95_ms"] for v in verdicts],
            "rep_write_ms": [v.get("write_ms") for v in verdicts]}  # fmt: skip


def rep_p95(records: list[dict]) -> float:
    """A rate run's figure for the budget: the p95 of its steady ticks (all it ran, when it stopped early)."""
    return stats.p95([x["d_ms"] for x in records if not x["warmup"]] or [x["d_ms"] for x in records])


def rep_write(records: list[dict]) -> float:
    """A rate run's writer figure: the median duration of one period's writes."""
    return stats.spread([x.get("write_ms") or 0.0 for x in records])["median"]


def _narrow(lo: float, hi: float, known: dict[int, bool]) -> tuple[float, float]:
    """The bracket tightened by runs already judged (every probe run answers for both limits)."""
    hi = min([w for w, ok in known.items() if lo < w < hi and not ok], default=hi)
    lo = max([w for w, ok in known.items() if lo < w < hi and ok], default=lo)
    return lo, hi


@dataclass(frozen=True)
class Scale:
    """A limit's terms: the tick period (s), the largest writes per tick tried, the share of the period allowed."""

    period: float
    cap: int
    fraction: float


def _limit(points: list[dict], key: str, probe, scale: Scale, records: list[dict],
           known: dict[int, bool] | None = None) -> dict:
    period, cap, fraction = scale.period, scale.cap, scale.fraction
    ok = sorted(p["writes_per_tick"] for p in points if p[key])
    bad = sorted(p["writes_per_tick"] for p in points if not p[key])
    largest = max(p["writes_per_tick"] for p in points)
    below = [w for w in ok if not bad or w < bad[0]]
    if bad and below and probe is None:  # no bisection here: the ladder's own bracket
        return {"writes_per_tick": below[-1], "rate_per_s": below[-1] / period, "measured": True,
                "largest_measured": largest, "bracket": [below[-1], bad[0]]}
    if bad and below:
        lo, hi = _narrow(below[-1], bad[0], known or {})
        lo, hi, _ = stats.bisect_limit(probe, lo, hi, rel=0.10)
        return {"writes_per_tick": lo, "rate_per_s": lo / period, "measured": True, "largest_measured": largest,
                "bracket": [lo, hi]}
    if bad and probe is not None:  # even the ladder's first point is beyond: look below it, then bisect
        hi = bad[0]
        while hi > 1:
            lo = max(1, hi // GROWTH)
            if probe(lo):
                lo, hi, _ = stats.bisect_limit(probe, lo, hi, rel=0.10)
                return {"writes_per_tick": lo, "rate_per_s": lo / period, "measured": True,
                        "largest_measured": largest, "bracket": [lo, hi]}
            hi = lo
    if bad:  # nothing measured keeps up (down to 1 write a tick, when probes were allowed)
        return {"writes_per_tick": None, "rate_per_s": None, "measured": True, "largest_measured": largest,
                "below": bad[0]}
    steady_ = [r for r in records if not r["warmup"]]
    if len({r["writes_per_tick"] for r in steady_}) < 2:
        return {"writes_per_tick": None, "rate_per_s": None, "measured": False, "largest_measured": largest,
                "why": "every point keeps up, and one ladder point gives no cost model to extrapolate from"}
    line = stats.fit([r["writes_per_tick"] for r in steady_], [r["d_ms"] for r in steady_])
    w = line.solve(fraction * period * 1000)
    return {"writes_per_tick": w, "rate_per_s": w / period if w else None, "measured": False,
            "largest_measured": largest, "model": {"a_ms": line.a, "b_ms_per_write": line.b, "r2": line.r2},
            "cap": cap}


def _series(records: list[dict]) -> list[dict]:
    """The plotted queue-and-lag series of a configuration's runs."""
    return [{"writes_per_tick": x["writes_per_tick"], "tick": x["tick"], "queue": x["queue_after"],
             "lag_s": x["lag_s"], "d_ms": x["d_ms"]} for x in records]


def _factory(run, c, rows: int, mix: dict):
    """A maker of fresh lanes for configuration c, labelled with it."""

    def make() -> Lane:
        return Lane(c.server, *run.template(c, rows), run.spec.seed, mix, run.cost_of(c.label), run.cap_ms(c))

    make.label = c.label
    return make


def rate_sweep(run) -> dict:
    spec, r = run.spec, run.spec.rate
    out: dict[str, dict] = {c.label: {} for c in run.configs}
    T = spec.period
    run.prepare_all(spec.history.rows[0])
    if "compressed" in r.modes:
        # Every run starts from a fresh clone of the template: a run's writes, bloat and backlog would otherwise
        # weigh on the next point's ticks (the first runs slower than T leave a spiral behind them).
        rows = spec.history.rows[0]
        fresh = {c.label: _factory(run, c, rows, r.mix) for c in run.configs if c.label not in run.stopped}
        points: dict[str, list[dict]] = {label: [] for label in fresh}
        records: dict[str, list[dict]] = {label: [] for label in fresh}
        shown: dict[str, list[dict]] = {label: [] for label in fresh}  # the first repetition: the plotted series

        def once(make, w: int) -> list[dict]:
            with make() as lane:
                return steady(lane, w, r.ticks, r.warmup, T)

        def measure(w: int, only: set[str] | None = None) -> None:
            sub = {k: v for k, v in fresh.items() if only is None or k in only}
            runs = run._paired(sub, lambda make, rep: once(make, w), "rate", w, r.ticks + r.warmup,
                               figures={"tick_p95": rep_p95, "write_cost": rep_write})
            for label, reps in runs.items():
                points[label].append(_combine([judge(x, T) for x in reps], w, T))
                records[label].extend(x for rep in reps for x in rep)
                shown[label].extend(reps[0])

        ladder = list(r.writes_per_tick)  # ρ at the planning rate is judged on the model at the production period
        for w in ladder:
            measure(w)
        w = ladder[-1]
        while w * GROWTH <= r.max_writes_per_tick:  # extend while some configuration still keeps up
            keeping_up = {label for label, p in points.items()
                          if p and p[-1]["sustainable"] and label not in run.stopped}
            if not keeping_up:
                break
            w *= GROWTH
            measure(w, keeping_up)
        for c in [c for c in run.configs if c.label in fresh]:
            label = c.label
            if label in run.stopped or not points[label] or run._all_stopped():
                continue
            judged: dict[int, dict] = {}  # writes a tick → the verdict of the probe run there

            def probe(w: float, key: str) -> bool:
                w = int(w)
                if label in run.stopped:  # capped meanwhile: nothing more is measured for it
                    return False
                if w not in judged:
                    run.progress(f"rate bisection {key} {w} · {label}", 0)
                    try:
                        recs = once(fresh[label], w)
                    except TickCapped as exc:
                        run._capped(c, "rate bisection", w, exc)
                        return False
                    run._keep(f"rate-bisection-{key}", label, w, 0, recs)
                    run.progress("", r.ticks + r.warmup)
                    judged[w] = judge(recs, T)
                return judged[w]["sustainable"] if key == "sustainable" else _planning(judged[w])

            pts = points[label]
            hard = _limit(pts, "sustainable", lambda w: probe(w, "sustainable"), Scale(T, r.max_writes_per_tick, 1.0),
                          records[label])
            planning = _limit(pts, "planning_ok", lambda w: probe(w, "planning"), Scale(T, r.max_writes_per_tick, 0.5),
                              records[label], {w: _planning(v) for w, v in judged.items()})
            out[label]["compressed"] = {"points": pts, "limits": {"hard": hard, "planning": planning},
                                        "series": _series(shown[label])}
    if "live" in r.modes:
        P, rows = r.live_period, spec.history.rows[0]
        fresh = {c.label: _factory(run, c, rows, r.mix) for c in run.configs if c.label not in run.stopped}
        figures: dict[str, list[dict]] = {label: [] for label in fresh}  # the writers' figures, per repetition
        pts: dict[str, list[dict]] = {label: [] for label in fresh}
        recs_all: dict[str, list[dict]] = {label: [] for label in fresh}
        shown: dict[str, list[dict]] = {label: [] for label in fresh}
        for w in r.writes_per_tick:
            def live_once(make, rep: int) -> list[dict]:
                with make() as lane:
                    recs, writers = live_point(lane, w / P, P, r.ticks, r.warmup, r.live_writers)
                for x in recs:
                    x["writes_per_tick"] = w
                figures[make.label].append(writers)
                return recs

            runs = run._paired(fresh, live_once, "rate-live", w, r.ticks + r.warmup)
            for label, reps in runs.items():
                writers, figures[label] = figures[label], []
                p = _combine([judge(x, P) for x in reps], w, P) | {
                    "rate_per_s": w / P, "writer_p99_ms": stats.spread([x["p99_ms"] for x in writers])["median"],
                    "writer_p50_ms": stats.spread([x["p50_ms"] for x in writers])["median"],
                    "writes_done": sum(x["writes"] for x in writers), "write_errors": sum(x["errors"] for x in writers),
                    "first_error": next((x["first_error"] for x in writers if x["first_error"]), None)}
                pts[label].append(p)
                recs_all[label].extend(x for rep in reps for x in rep)
                shown[label].extend(reps[0])
        for label in [x for x in fresh if pts[x]]:
            out[label]["live"] = {
                "points": pts[label], "period_s": P,
                "limits": {"hard": _limit(pts[label], "sustainable", None, Scale(P, r.max_writes_per_tick, 1.0), recs_all[label]),
                           "planning": _limit(pts[label], "planning_ok", None, Scale(P, r.max_writes_per_tick, 0.5),
                                              recs_all[label])},
                "series": _series(shown[label]),
            }  # fmt: skip
    return out
