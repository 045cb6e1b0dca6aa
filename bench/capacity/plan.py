"""The planner's answer at the production period: at R writes/s with a history of N days (and a number of
workspaces), what the tick costs (p50, p99, with an interval), where the queue and the watermark settle, the
headroom ρ = D / T, the largest sustainable rate and the history at which the tick would pass T — predicted by
the cost model (bench/capacity/model.py) from the sweeps, and marked extrapolated beyond what was measured.

Assumptions, stated in every plan: a tick's writes are the spec's mix; inserts land in the current hour, and
dirty as many keys as an hour of that many rows occupies; other writes (re-reports, deletes, reassigns) touch
older rows, a key each, and are what the triggers enqueue; the history grows by the inserts; a tick reads the
window's rows and, for each bucket it recomputes, the share of its hour's rows the density sweep measured (its
key's, its provider/model's or the whole hour's: the target's SQL and indexes decide); without that sweep, its
key's rows of the hour (an assumption the plan names); no term grows with the history's length (the sweeps vary
density over a fixed span: see model.py)."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

import numpy as np

from bench.capacity import model as cost
from bench.capacity.world import TICK

DAY = 86_400.0
BUSY = 0.25  # share of the run's fixed-work samples in a slow spell past which the plan says the machine was busy
UNBOUNDED = 1e9  # writes/s: a limit past this is "unbounded by the model"


@dataclass(frozen=True)
class Ask:
    writes_per_second: float
    history_days: float = 90.0
    period_s: float = 300.0
    workspaces: int | None = None  # None: the spec's tenants


def world_of(results: dict, label: str) -> dict | None:
    """What the plan needs of the measured world: keys an hour holds, the mix, bytes per history row."""
    w = results.get("world") or {}
    keys = (results.get("keys", {}).get(label) or {}).get("keys_total")
    if not w or not keys:
        return None
    hours = w["days"] * 24
    dense = [(p["h"], statistics.median(p["keys_samples"]),
              statistics.median(p.get("both_keys_samples") or p["keys_samples"]),
              statistics.median(p.get("both_read_samples") or p["read_samples"]))
             for p in (results.get("density", {}).get(label) or {}).get("points", [])]
    return {"keys_per_hour": keys / hours, "insert": w["mix"].get("insert", 1.0) / (sum(w["mix"].values()) or 1.0),
            "workspaces": w["workspaces"], "bytes_per_row": w.get("bytes_per_row"), "days": w["days"],
            # A production hour as measured: (rows an hour, buckets the working tick recomputed, buckets both
            # ticks recomputed, rows both read), and the shape fitted on it once (tick_shape).
            "hours": (hours := [x for x in dense if x[1] > 0]), "shape": _shape(hours) if hours else None}


def keys_per_tick(writes: float, per_hour: float, insert: float) -> float:
    """Distinct dirty keys of one period's writes, with no density sweep: inserts fill the current hour's keys
    as the history holds them (occupancy), the rest touch a key each."""
    ins = insert * writes
    return per_hour * (1 - math.exp(-ins / per_hour)) + (1 - insert) * writes if per_hour > 0 else writes


def per_bucket(points: list[tuple[float, float]]) -> tuple[float, float]:
    """(c, s): the rows a recomputed bucket reads when its hour holds H rows, c + s·H with c, s ≥ 0, fitted to
    the measured (H, rows a bucket read) (non-negative least squares); from one point, s alone (every row of the
    hour counted: the costly side)."""
    if len(points) == 1:
        h, r = points[0]
        return 0.0, r / h
    a = np.array([[1.0, h] for h, _ in points])
    scale = a.max(axis=0)
    c, slope = cost.nnls(a / scale, np.array([r for _, r in points])) / scale
    return float(c), float(slope)


def occupancy(points: list[tuple[float, float]]) -> float:
    """The keys K an hour can hold, fitted to the measured (rows, keys occupied) by n rows filling
    K(1 − e^(−n/K)) keys (rows landing at random on K keys), least squares on the logarithm."""
    def err(k: float) -> float:
        return sum(math.log(k * -math.expm1(-n / k) / y) ** 2 for n, y in points)

    lo, hi = max(y for _, y in points), 1e9
    for _ in range(200):  # golden section on log K
        a, b = lo * (hi / lo) ** 0.382, lo * (hi / lo) ** 0.618
        lo, hi = (lo, b) if err(a) < err(b) else (a, hi)
        if hi / lo < 1.0001:
            break
    return lo


def _shape(hours: list[tuple]) -> tuple[float, float, float, float]:
    """What tick_shape scales, fitted on the measured hours: the keys an hour can hold (K), how often the target
    recomputes a key, and a bucket's reads c + s·H."""
    c, slope = per_bucket([(h, max(r - h, 1.0) / both) for h, _, both, r in hours])
    return (occupancy([(h, work) for h, work, _, _ in hours]),
            statistics.median(both / work for _, work, both, _ in hours), c, slope)


def tick_shape(wd: dict, writes: float, hour_rows: float) -> tuple[float, float]:
    """(dirty keys, raw rows read) of a tick of `writes` writes while the current hour holds `hour_rows` rows.
    Measured (density sweep): the keys a period's inserts occupy (K(1 − e^(−n/K)), K fitted), times how often
    the target recomputes a key (both ticks' keys ÷ the working tick's), and for each the rows a bucket reads
    at that hour's rows (c + s·H, fitted on the measured hours). Else assumed: occupancy of the keys an hour of the
    history holds, a key recomputed once, reading its own rows of the hour."""
    ins, other = wd["insert"] * writes, (1 - wd["insert"]) * writes
    if wd["shape"]:
        k, again, c, slope = wd["shape"]
        keys = again * (k * -math.expm1(-ins / k) + other)
        return keys, writes + keys * max(1.0, c + slope * hour_rows)  # the window's rows, then each bucket's
    keys = keys_per_tick(writes, wd["keys_per_hour"], wd["insert"])
    own = hour_rows / wd["keys_per_hour"] if wd["keys_per_hour"] > 0 else 1.0
    return keys, writes + keys * max(1.0, own)


def _at(m: cost.Model, wd: dict, rate: float, days: float, period: float, scale: float) -> dict:
    """A tick at `rate`: its median with the current hour half full (the hour's typical tick), its p99 and the
    interval's top with the hour full (the hour's last, busiest tick). More workspaces than the sweeps had: the
    measured world repeated, each copy at its share of the rate."""
    writes, hour = rate * period, rate * wd["insert"] * 3600 / scale
    keys, reads = (x * scale for x in tick_shape(wd, writes / scale, hour))
    _, typical = (x * scale for x in tick_shape(wd, writes / scale, hour / 2))
    rows = rate * wd["insert"] * DAY * days
    median = m.at(keys, typical)
    lo, hi = m.interval(keys, typical)[0], m.interval(keys, reads)[1]
    parts = {"fixed": m.term("fixed"), "per_key": m.term("per_key") * keys, "per_read": m.term("per_read") * reads}
    return {"writes_per_tick": writes, "keys": keys, "reads": reads, "reads_typical": typical, "rows": rows,
            "hour_rows": hour * scale, "p50_ms": median * m.spread["p50"],
            "p99_ms": m.at(keys, reads) * m.spread["p99"], "interval_ms": [lo * m.spread["p50"], hi * m.spread["p99"]],
            "dominant": max(parts, key=parts.get), "parts_ms": parts,
            "extrapolated": [what for what, x, span in (
                ("dirty keys", keys, m.span["keys"]), ("rows read", reads, m.span["reads"]),
                ("rows an hour", hour, max((x[0] for x in wd["hours"]), default=math.inf))) if x > span * 1.0001]}


def _limit(m, wd, days, period, scale, rho: float) -> float | None:
    """The largest rate whose predicted p99 tick stays within rho·T (the history grows with the rate)."""
    ok = lambda r: _at(m, wd, r, days, period, scale)["p99_ms"] <= rho * period * 1000  # noqa: E731
    lo, hi = 1e-3, UNBOUNDED
    if not ok(lo):
        return None
    if ok(hi):
        return hi  # "unbounded by the model": nothing the model holds grows fast enough (kept finite for JSON)
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
        if hi / lo < 1.001:
            break
    return lo


def plan(results: dict, label: str, ask: Ask) -> dict:
    """The plan for one configuration; {"why": …} when the sweeps give no model to answer with."""
    wd = world_of(results, label)
    smp = cost.samples(results, label)
    if wd is None or len(smp) < 3 or len({s[0] for s in smp}) < 2:
        return {"label": label, "why": "not measured: the keys sweep gives the cost model its points", "ask": vars(ask)}
    m = cost.fit(smp)
    T, scale = ask.period_s, (ask.workspaces / wd["workspaces"]) if ask.workspaces else 1.0
    now = _at(m, wd, ask.writes_per_second, ask.history_days, T, scale)
    # ρ's upper bound: the bootstrap's upper median tick, not a p99 that one stalled tick of a busy machine sets.
    rho, rho_high = now["p50_ms"] / 1000 / T, m.interval(now["keys"], now["reads"])[1] * m.spread["p50"] / 1000 / T
    enqueued = (1 - wd["insert"]) * now["writes_per_tick"]
    per_hour = 3600 / T
    settles = rho_high < 1
    queue = ({"settles_at": enqueued} if settles else {"growth_per_hour": enqueued * per_hour * (1 - 1 / rho_high)})
    lag = ({"settles_at_s": T + now["p50_ms"] / 1000} if settles
           else {"growth_s_per_hour": 3600 * (1 - 1 / rho_high)})
    passes = {"rows": None, "why": "no term of the model grows with the history's length (a tick reads rows of "
                                   "the hours it recomputes: the rate, not the days kept, sets its cost)"}
    scaled = [{"factor": f, **_at(m, wd, ask.writes_per_second * f, ask.history_days * f, T, scale)}
              for f in (1, 10, 100)]
    ram = (results.get("machine") or {}).get("ram_gb")
    for s in scaled:
        s["rho"] = s["p50_ms"] / 1000 / T
        s["history_gb"] = gb = wd["bytes_per_row"] and wd["bytes_per_row"] * s["rows"] / 1e9
        s["binds"] = _binds(s, gb, ram)
    validated = [*((results.get("keys", {}).get(label) or {}).get("validation") or []),
                 *((results.get("density", {}).get(label) or {}).get("validation") or []),
                 *_end_to_end(results, label, m, wd)]
    return {"label": label, "ask": vars(ask), "model": m.as_dict(), "at": now, "rho": rho, "rho_high": rho_high,
            "busy": _busy(results, label), "reads": "measured" if wd["hours"] else "assumed",
            "period_s": T, "queue": queue, "lag": lag, "history_passes_T": passes, "scaled": scaled,
            "limits": {"hard": _limit(m, wd, ask.history_days, T, scale, 1.0),
                       "planning": _limit(m, wd, ask.history_days, T, scale, 0.5)},
            "validation": validated, "extrapolated": now["extrapolated"]}


def _end_to_end(results: dict, label: str, m: cost.Model, wd: dict) -> list[dict]:
    """The plan against the rate sweep's compressed ticks, which are production ticks in simulated time (w writes
    every 5 simulated minutes is w / 300 writes/s, the hour filling as it would): the plan's median tick at that
    rate, predicted from the other sweeps (the rate sweep's ticks are not in the model), and the median measured."""
    period = TICK.total_seconds()
    out = []
    for p in ((results.get("rate", {}).get(label) or {}).get("compressed") or {}).get("points", []):
        predicted = _at(m, wd, p["writes_per_tick"] / period, wd["days"], period, 1.0)["p50_ms"]
        measured = p["rho_median"] * results.get("period_s", 0) * 1000
        if predicted > 0 and measured > 0:
            out.append({"writes_per_tick": p["writes_per_tick"], "predicted_ms": predicted,
                        "measured_ms": measured, "ratio": measured / predicted})
    return out


def _busy(results: dict, label: str) -> float | None:
    """The share of the run's fixed-work samples that fell in a slow spell, when past BUSY: a busy machine moves
    the model's smaller terms by multiples (ten loaded runs here planned 115–1,634 writes/s for one target),
    which the bootstrap interval, drawn from the same noisy ticks, does not cover."""
    pg = next((c["pg"] for c in results.get("configs") or [] if c["label"] == label), None)
    w = (results.get("fixed_work") or {}).get(pg) or {}
    return w["slow"] if w.get("slow", 0) > BUSY else None


def _binds(s: dict, gb: float | None, ram: float | None) -> str:
    """Where the prediction stops holding: a history past the machine's memory turns a history-bound tick into
    disk reads; otherwise the dominant term's CPU."""
    if gb and ram and gb > ram:
        return f"I/O: history {gb:,.0f} GB > RAM {ram:,.0f} GB" + (" (re-reads go to disk)"
                                                                    if s["dominant"] == "per_read" else "")
    return {"fixed": "CPU: fixed work", "per_key": "CPU: per dirty key",
            "per_read": "CPU: rows re-read"}[s["dominant"]]


def _fmt_rate(r: float | None) -> str:
    return "none" if r is None else "unbounded by the model" if r >= UNBOUNDED else f"{r:,.3g} writes/s"


def sentences(p: dict) -> str:
    """Two or three sentences: the plan's answer."""
    if "why" in p:
        return f"{p['label']}: {p['why']}."
    a, at = p["ask"], p["at"]
    head = (f"{p['label']} at {a['writes_per_second']:g} writes/s with {a['history_days']:g} days of history "
            f"(T = {p['period_s'] / 60:g} min): a tick takes {at['p50_ms']:,.3g} ms at the median and "
            f"{at['p99_ms']:,.3g} ms at p99 (95 % interval {at['interval_ms'][0]:,.3g}–{at['interval_ms'][1]:,.3g} "
            f"ms), ρ = {p['rho']:.2g} (at most {p['rho_high']:.2g}).")
    q = p["queue"]
    queue = (f"the queue settles at about {q['settles_at']:,.0f} keys and the watermark trails by "
             f"{p['lag']['settles_at_s']:,.0f} s" if "settles_at" in q else
             f"the queue grows by {q['growth_per_hour']:,.0f} keys an hour and the watermark falls "
             f"{p['lag']['growth_s_per_hour']:,.0f} s further behind each hour")
    passes = p["history_passes_T"]
    hist = (f"the tick would pass T at {passes['rows']:,.3g} history rows (about {passes['days']:,.0f} days)"
            if passes.get("rows") else passes["why"])
    tail = (f"; extrapolated beyond what was validated ({', '.join(p['extrapolated'])} past what was measured)"
            if p["extrapolated"] else "")
    busy = (f" The machine was busy while this was measured ({p['busy']:.0%} of its fixed-work samples ran in a "
            "slow spell): the figures can be off by multiples; take the plan again on a quiet machine."
            if p.get("busy") else "")
    if p.get("reads") == "assumed":
        tail += ("; the rows a recomputed bucket reads are assumed (its key's rows of the hour): no density sweep "
                 "measured them")
    return (f"{head} At this rate {queue}; the largest sustainable rate is {_fmt_rate(p['limits']['hard'])} "
            f"(planning, ρ ≤ 0.5: {_fmt_rate(p['limits']['planning'])}); {hist}{tail}.{busy}")


def table_rows(p: dict) -> list[list[str]]:
    """The plan's one table: ×1, ×10, ×100 the rate and the history (* extrapolated past what was measured)."""
    rows = []
    for s in p.get("scaled") or []:
        rows.append([f"×{s['factor']}" + ("*" if s["extrapolated"] else ""),
                     f"{p['ask']['writes_per_second'] * s['factor']:,.4g}", f"{s['rows']:,.3g}",
                     f"{s['keys']:,.4g}", f"{s['reads']:,.3g}", f"{s['p50_ms']:,.4g}", f"{s['p99_ms']:,.4g}",
                     f"{s['interval_ms'][1]:,.4g}", f"{s['rho']:.3g}", s["dominant"].replace("_", " "),
                     s.get("binds", "")])
    return rows


HEADERS = ["scale", "writes/s", "history rows", "keys/tick", "rows read/tick", "p50 ms", "p99 ms", "p99 95% hi",
           "ρ", "dominant", "binds first"]
