"""The planner's answer at the production period: at R writes/s with a history of N days (and a number of
workspaces), what the tick costs (p50, p99, with an interval), where the queue and the watermark settle, the
headroom ρ = D / T, the largest sustainable rate and the history at which the tick would pass T — predicted by
the cost model (bench/capacity/model.py) from the sweeps, and marked extrapolated beyond what was measured.

Assumptions, stated in every plan: a tick's writes are the spec's mix; inserts land in the current hour, whose
distinct keys saturate at the keys an hour of the history holds; other writes (re-reports, deletes, reassigns)
touch older rows, a key each, and are what the triggers enqueue; the history grows by the inserts; a tick reads
the window's rows and every row of each bucket it recomputes (an hour's rows of one key, which the rate sets);
no term grows with the history's length (the sweeps vary density over a fixed span: see model.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from bench.capacity import model as cost

DAY = 86_400.0
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
    return {"keys_per_hour": keys / hours, "insert": w["mix"].get("insert", 1.0) / (sum(w["mix"].values()) or 1.0),
            "workspaces": w["workspaces"],
            "bytes_per_row": w.get("bytes_per_row")}


def keys_per_tick(writes: float, per_hour: float, insert: float) -> float:
    """Distinct dirty keys of one period's writes: inserts fill the current hour's keys (occupancy), the rest
    touch a key each."""
    ins = insert * writes
    return per_hour * (1 - math.exp(-ins / per_hour)) + (1 - insert) * writes if per_hour > 0 else writes


def _at(m: cost.Model, wd: dict, rate: float, days: float, period: float, scale: float) -> dict:
    writes = rate * period
    per_hour = wd["keys_per_hour"] * scale
    keys = keys_per_tick(writes, per_hour, wd["insert"])
    per_bucket = max(1.0, rate * wd["insert"] * 3600 / per_hour) if per_hour > 0 else 1.0
    reads = writes + keys * per_bucket  # the window's rows, then each recomputed bucket's
    rows = rate * wd["insert"] * DAY * days
    median = m.at(keys, reads)
    lo, hi = m.interval(keys, reads)
    parts = {"fixed": m.term("fixed"), "per_key": m.term("per_key") * keys, "per_read": m.term("per_read") * reads}
    return {"writes_per_tick": writes, "keys": keys, "reads": reads, "rows": rows, "p50_ms": median * m.spread["p50"],
            "p99_ms": median * m.spread["p99"], "interval_ms": [lo * m.spread["p50"], hi * m.spread["p99"]],
            "dominant": max(parts, key=parts.get), "parts_ms": parts,
            "extrapolated": [what for what, x, span in (("dirty keys", keys, m.span["keys"]),
                                                         ("rows read", reads, m.span["reads"])) if x > span * 1.0001]}


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
    passes = {"rows": None, "why": "no term of the model grows with the history's length (a tick reads an hour's "
                                   "rows of each key it recomputes: the rate, not the days kept, sets its cost)"}
    scaled = [{"factor": f, **_at(m, wd, ask.writes_per_second * f, ask.history_days * f, T, scale)}
              for f in (1, 10, 100)]
    ram = (results.get("machine") or {}).get("ram_gb")
    for s in scaled:
        s["rho"] = s["p50_ms"] / 1000 / T
        s["history_gb"] = gb = wd["bytes_per_row"] and wd["bytes_per_row"] * s["rows"] / 1e9
        s["binds"] = _binds(s, gb, ram)
    validated = (results.get("keys", {}).get(label) or {}).get("validation") or []
    return {"label": label, "ask": vars(ask), "model": m.as_dict(), "at": now, "rho": rho, "rho_high": rho_high,
            "period_s": T, "queue": queue, "lag": lag, "history_passes_T": passes, "scaled": scaled,
            "limits": {"hard": _limit(m, wd, ask.history_days, T, scale, 1.0),
                       "planning": _limit(m, wd, ask.history_days, T, scale, 0.5)},
            "validation": validated, "extrapolated": now["extrapolated"]}


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
    return (f"{head} At this rate {queue}; the largest sustainable rate is {_fmt_rate(p['limits']['hard'])} "
            f"(planning, ρ ≤ 0.5: {_fmt_rate(p['limits']['planning'])}); {hist}{tail}.")


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
