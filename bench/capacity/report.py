"""The capacity report: a self-contained HTML page (inline SVG plots), the same as Markdown, and the raw JSON.

It only presents figures the measurement side already computed; any section may be missing ("not run")."""

from __future__ import annotations

import html
import math
import io
import json
import pathlib
import statistics

import matplotlib

matplotlib.use("Agg")  # no display; SVG only (must precede pyplot)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from rich.table import Table  # noqa: E402

from bench.capacity.cells import DASH, NOT_MEASURED, _f, _html_table, _md_table  # noqa: E402
from bench.capacity.noise import SLOW  # noqa: E402

MODES = ("live", "compressed")  # headline limits: a measured one first, live before compressed
LINE = {"compressed": "-", "live": ":"}
STATE_LINE = {"absent": "-", "installed": "--", "active": ":"}
SECTIONS = ("keys", "history", "density", "rate", "crossover", "writers", "faults")
# Without these keys matplotlib writes no <metadata> block, whose RDF namespaces are external URLs.
NO_METADATA = {"Date": None, "Creator": None, "Type": None, "Format": None}
HEAD = ["config", "idle tick (ms)", "a (ms)", "b (µs/key)", "R²", "hard limit (writes/s)",
        "planning limit (writes/s)", "crossover (%)", "writer installed/absent", "writer active/absent",
        "recovery (ticks)"]


def _spread(d: dict | None, key: str = "") -> str:
    """Median with its min–max range: the report shows the spread, not just a centre."""
    if not d:
        return DASH
    return f"{_f(d['median' + key])} ({_f(d['min' + key])}–{_f(d['max' + key])})"


def _slope(p: dict) -> str:
    ci = p.get("slope_ci") or []
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in [p.get("queue_slope"), *ci]):
        return f"{NOT_MEASURED} (a run stopped before 3 steady ticks)"
    return f"{_f(p['queue_slope'])} [{', '.join(map(_f, ci))}]"


def _sec(results: dict, name: str) -> dict:
    return results.get(name) or {}


def _labels(results: dict) -> list[str]:
    labels = [c["label"] for c in results.get("configs") or []]
    for name in SECTIONS:  # a label measured but missing from configs still gets reported
        labels += [lb for lb in _sec(results, name) if lb not in labels]
    return labels


def _styles(results: dict) -> dict[str, tuple[str, str]]:
    return {lb: (f"C{i % 10}", "osD^vPX*<>"[i % 10]) for i, lb in enumerate(_labels(results))}


def _below(lim: dict, s: dict, period: float) -> str:
    """A limit no measured point met: under the smallest point, in writes/s (live mode has its own period)."""
    return f"< {_f(lim['below'] / s.get('period_s', period))}"


def _limit(modes: dict, kind: str, period: float) -> str:
    found = [(m, modes[m]["limits"][kind]) for m in (*MODES, *(m for m in modes if m not in MODES))
             if m in modes and ((modes[m].get("limits") or {}).get(kind) or {}).get("rate_per_s") is not None]
    below = [f"{m}: {_below(modes[m]['limits'][kind], modes[m], period)}"
             for m in modes if ((modes[m].get("limits") or {}).get(kind) or {}).get("below")]
    if not found:
        return "; ".join(below) or DASH
    mode, lim = next((p for p in found if p[1].get("measured")), found[0])
    return "; ".join([f"{mode}: {_f(lim['rate_per_s'])}" + ("" if lim.get("measured") else " (extrapolated)"),
                      *below])


def _overhead(ops: dict, state: str) -> str:
    """The headline quotes the usage insert (else the op whose name comes closest)."""
    name = min(ops, key=lambda n: ("usage" not in n, "insert" not in n, n), default=None)
    base, other = (ops.get(name) or {}).get("absent"), (ops.get(name) or {}).get(state)
    if not base or not other or not base.get("median_us"):
        return DASH
    return f"{other['median_us'] / base['median_us']:.2f}×"


def _crossover_cell(cross: dict) -> str:
    """Where full recompute overtakes the incremental tick, at the biggest history; beyond the points swept, the
    side it lies on."""
    c = cross[max(cross, key=int)]
    if c.get("crossover_fraction") is not None:
        return _f(c["crossover_fraction"] * 100)
    if c.get("crossover_at_least") is not None:
        return f"≥ {_f(c['crossover_at_least'] * 100)} (extrapolated)"
    pts = [p for p in c.get("points", []) if p.get("speedup")]
    if not pts:
        return DASH
    if all(p["speedup"] > 1 for p in pts):
        return f"> {_f(max(p['fraction'] for p in pts) * 100)}"
    return f"< {_f(min(p['fraction'] for p in pts) * 100)}"


def _headline_rows(results: dict) -> list[list[str]]:
    rows = []
    for lb in _labels(results):
        hist, modes = _sec(results, "history").get(lb) or [], _sec(results, "rate").get(lb) or {}
        idle = max(hist, key=lambda h: h["rows"])["idle_ms"]["median"] if hist else None  # largest history
        fit = (_sec(results, "keys").get(lb) or {}).get("fit") or {}
        cross = _sec(results, "crossover").get(lb) or {}
        ops = (_sec(results, "writers").get(lb) or {}).get("ops") or {}
        rec = "; ".join(f"{n}: {'never' if f.get('recovery_ticks') is None else _f(f['recovery_ticks'])}"
                        for n, f in (_sec(results, "faults").get(lb) or {}).items())
        rows.append([lb, _f(idle), _f(fit.get("a_ms")),
                     _f(fit["b_ms"] * 1000) if fit.get("b_ms") is not None else DASH, _f(fit.get("r2")),
                     _limit(modes, "hard", results.get("period_s", 1)), _limit(modes, "planning", results.get("period_s", 1)),
                     _crossover_cell(cross) if cross else DASH,
                     _overhead(ops, "installed"), _overhead(ops, "active"), rec or DASH])
    return rows


def _transposed(results: dict) -> tuple[list[str], list[list[str]]]:
    """The headline with one column per configuration and one row per figure: configurations are few, figures
    many, and a terminal is narrow."""
    rows = _headline_rows(results)
    return ["figure", *(r[0] for r in rows)], [[h, *(r[i] for r in rows)] for i, h in enumerate(HEAD) if i]


def summary_table(results: dict) -> Table:
    """The headline table for the terminal."""
    headers, rows = _transposed(results)
    table = Table(title=f"capacity: {results.get('spec', '?')}")
    for i, h in enumerate(headers):
        table.add_column(h, justify="left" if i == 0 else "right", overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table


def headline_markdown(results: dict) -> str:
    """The same headline table in Markdown (for the README)."""
    return _md_table(*_transposed(results))


def _plot_keys(results, st):
    keys = {lb: s for lb, s in _sec(results, "keys").items() if s.get("points")}
    if not keys:
        return None
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for lb, s in keys.items():
        pts = sorted((p for p in s["points"] if p["k"] > 0), key=lambda p: p["k"])  # log axes
        k, med = np.array([p["k"] for p in pts]), np.array([p["median_ms"] for p in pts])
        err = np.clip([med - [p["min_ms"] for p in pts], np.array([p["max_ms"] for p in pts]) - med], 0, None)
        ax.errorbar(k, med, yerr=err, fmt=st[lb][1], color=st[lb][0], capsize=3, label=lb)
        if s.get("fit") and len(k):
            xs = np.geomspace(k.min(), k.max(), 50)
            ax.plot(xs, s["fit"]["a_ms"] + s["fit"]["b_ms"] * xs, "--", color=st[lb][0], label=f"{lb} a + b·k")
    t_ms = results.get("period_s", 0) * 1000
    if t_ms:
        ax.axhline(t_ms, color="grey", lw=1)
        ax.annotate("T", (0.01, t_ms), xycoords=("axes fraction", "data"), va="bottom", color="grey")
    ax.set(xscale="log", yscale="log", xlabel="dirty keys k", ylabel="tick duration D (ms)")
    ax.legend(fontsize=9)
    return fig


def _plot_rate(results, st):
    rate = _sec(results, "rate")
    if not any(s.get("points") for modes in rate.values() for s in modes.values()):
        return None
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for lb, modes in rate.items():
        c, m = st[lb]
        for mode, s in modes.items():
            pts = sorted(s.get("points") or [], key=lambda p: p["rate_per_s"])
            ax.plot([p["rate_per_s"] for p in pts], [p["rho_median"] for p in pts], LINE.get(mode, "-"),
                    marker=m, color=c, label=f"{lb} {mode}")
            for kind, y in (("hard", 1.0), ("planning", 0.5)):
                lim = (s.get("limits") or {}).get(kind) or {}
                if lim.get("rate_per_s") is None:
                    continue
                ax.axvline(lim["rate_per_s"], color=c, ls=LINE.get(mode, "-"), lw=0.7, alpha=0.6)
                ax.plot(lim["rate_per_s"], y, "D" if kind == "hard" else "s", ms=8, color=c,
                        mfc=c if lim.get("measured") else "none",
                        label=f"{lb} {mode} {kind} limit" + ("" if lim.get("measured") else " (extrapolated)"))
    for y in (1.0, 0.5):
        ax.axhline(y, color="grey", lw=1, ls="-" if y == 1 else "--")
    ax.set(xscale="log", xlabel="write rate (writes/s)", ylabel="ρ = D / T")
    ax.legend(fontsize=9, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return fig


def _plot_queue(results, st):
    panels = [(f"{lb} · {name}", lb, f["series"], f.get("fault_ticks"))
              for lb, faults in _sec(results, "faults").items() for name, f in faults.items() if f.get("series")]
    panels += [(f"{lb} · rate ladder ({mode})", lb, s["series"], None)
               for lb, modes in _sec(results, "rate").items() for mode, s in modes.items() if s.get("series")]
    if not panels:
        return None
    cols, rows = min(2, len(panels)), -(-len(panels) // 2)
    fig, axes = plt.subplots(rows, cols, figsize=(6.5 * cols, 3 * rows), squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    for ax, (title, lb, series, span) in zip(axes.flat, panels):
        ax.set_title(title, fontsize=9)
        ax.set(xlabel="tick", ylabel="queue depth (keys)")
        if "writes_per_tick" in series[0]:  # a rate ladder: one colour per step
            steps = sorted({s["writes_per_tick"] for s in series})
            for i, w in enumerate(steps):
                pts = [s for s in series if s["writes_per_tick"] == w]
                ax.plot([s["tick"] for s in pts], [s["queue"] for s in pts], lw=1,
                        color=plt.cm.viridis(i / max(1, len(steps) - 1)), label=f"{w} writes/tick")
            ax.legend(fontsize=9, ncol=2)
            continue
        ticks = [s["tick"] for s in series]
        ax.plot(ticks, [s["queue"] for s in series], color=st[lb][0], label="queue")
        lag = ax.twinx()
        lag.plot(ticks, [s["lag_s"] for s in series], color="black", ls="--", lw=1, label="lag")
        lag.set_ylabel("watermark lag (s)")
        if span:
            ax.axvspan(span[0], span[1], color="red", alpha=0.12, label="fault")
        ax.legend(handles=ax.get_lines() + lag.get_lines() + ax.patches, fontsize=9)
    fig.tight_layout()
    return fig


def _plot_crossover(results, st):
    cross = _sec(results, "crossover")
    if not any(s.get("points") for by_rows in cross.values() for s in by_rows.values()):
        return None
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for lb, by_rows in cross.items():
        for i, (rows, s) in enumerate(sorted(by_rows.items(), key=lambda kv: int(kv[0]))):
            pts = sorted(s.get("points") or [], key=lambda p: p["fraction"])
            ax.plot([p["fraction"] for p in pts], [p["speedup"] for p in pts], ["-", "--", ":", "-."][i % 4],
                    marker=st[lb][1], color=st[lb][0], label=f"{lb} {int(rows):,} rows")
            if s.get("crossover_fraction") is not None:
                ax.plot(s["crossover_fraction"], 1.0, "X", ms=10, color=st[lb][0])
    ax.axhline(1.0, color="grey", lw=1)
    ax.set(xscale="log", yscale="log", xlabel="dirty fraction of keys", ylabel="speedup (full ÷ incremental)")
    ax.legend(fontsize=9)
    return fig


def _failed_ticks(t: dict) -> str:
    """A failed tick is a finding: its count, and the first error a tick raised (a hardened tick persists its
    error and returns -1 instead)."""
    if not t.get("failed"):
        return "0"
    return f"FAILED {t['failed']}: {t['first_failure'] or 'the tick persisted its error (returned -1)'}"


def _plot_writers(results, st):
    writers = {lb: w["concurrency"] for lb, w in _sec(results, "writers").items() if w.get("concurrency")}
    if not writers:
        return None
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for lb, conc in writers.items():
        for state in dict.fromkeys(c["state"] for c in conc):
            pts = sorted((c for c in conc if c["state"] == state), key=lambda c: c["writers"])
            ax.plot([c["writers"] for c in pts], [c["p99_ms"] for c in pts], STATE_LINE.get(state, "-."),
                    marker=st[lb][1], color=st[lb][0], label=f"{lb} {state}")
    ax.set(xlabel="concurrent writers", ylabel="writer p99 (ms)")
    ax.legend(fontsize=9)
    return fig


PLOTS = {"keys": _plot_keys, "rate": _plot_rate, "queue": _plot_queue, "crossover": _plot_crossover,
         "writers": _plot_writers}


def _svgs(results: dict) -> dict[str, str]:
    st, out = _styles(results), {}
    for name, plot in PLOTS.items():
        fig = plot(results, st)
        if fig is None:
            continue
        buf = io.StringIO()
        with plt.rc_context({"svg.hashsalt": name, "svg.fonttype": "path"}):  # stable ids, no font files
            fig.savefig(buf, format="svg", bbox_inches="tight", metadata=NO_METADATA)
        plt.close(fig)
        out[name] = buf.getvalue()
    return out


def _mid(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def _skipped(x: dict) -> str:
    """A sweep point not measured, and why (with the prediction that ruled it out, if any)."""
    return f"not measured: {x['why']}" + (f" ({_f(x['predicted_ms'])} ms)" if x.get("predicted_ms") else "")


def _sections(results: dict) -> list[tuple[str, str | None, list[str], list]]:
    """Each section as (title, plot name, notes, [(caption, headers, rows)]), for both HTML and Markdown."""
    r = results
    keys = [(f"{lb}: D = {_f(s['fit']['a_ms'])} ms + {_f(s['fit']['b_ms'] * 1000)} µs·k, "
             f"R² {_f(s['fit']['r2'])}" if s.get("fit") else lb, ["k", "D (ms)", "reps"],
             [[_f(p["k"]), _spread(p, "_ms"), _f(p["reps"])] for p in s.get("points") or []]
             + [[_f(x["k"]), _skipped(x), "0"] for x in s.get("skipped") or []])
            for lb, s in _sec(r, "keys").items()]
    for lb, s in _sec(r, "keys").items():
        if s.get("phases"):
            top = max(s["phases"], key=lambda ph: ph["k"])
            keys.append((f"{lb}: statements at k = {top['k']:,}", ["query", "ms", "hit", "read", "temp written"],
                         [[" ".join(q["query"].split())[:90], _f(q["ms"]), _f(q["shared_hit"]),
                           _f(q["shared_read"]), _f(q["temp_written"])] for q in top["statements"]]))
    history = [("", ["config", "rows", "prepared (s)", "verified", "change keys", "change tick (ms)",
                     "idle tick (ms)", "size (MB)"],
                [[lb, _f(h["rows"]), _f(h.get("prepare_s")), h.get("verified", DASH), _f(h["change_keys"]),
                  _spread(h.get("change_ms")), _spread(h.get("idle_ms")),
                  _f(sum((h.get("sizes") or {}).values()) / 1e6)] for lb, hs in _sec(r, "history").items()
                 for h in hs])]
    density = [(f"{lb}: a fresh hour filled with H new rows, then its tick",
                ["rows an hour (H)", "buckets recomputed", "rows read", "share of its hour a bucket read",
                 "D (ms)", "reps"],
                [[_f(p["h"]), _f(_mid(p["keys_samples"])), _f(_mid(p["read_samples"])),
                  _f((_mid(p["read_samples"]) - p["h"]) / max(1.0, _mid(p["keys_samples"]) * p["h"])),
                  _spread(p, "_ms"),
                  _f(p["reps"])] for p in s.get("points") or []]
                + [[_f(x["h"]), DASH, DASH, DASH, _skipped(x), "0"] for x in s.get("skipped") or []])
               for lb, s in _sec(r, "density").items()]
    if r.get("preload"):
        history.append(("Preload: every template, how it was made (seconds per stage) and how it was checked",
                        ["template", "rows", "made from", "seconds", "stages", "verified"],
                        [[k, _f(v["rows"]), v.get("from") or "bulk load", _f(v["prepare_s"]),
                          ", ".join(f"{n} {_f(x)}" for n, x in (v.get("stages") or {}).items()), v["verified"]]
                         for k, v in r["preload"].items()]))
    rate = [("", ["config", "mode", "writes/tick", "writes/s", "ρ median", "ρ max", "queue slope [95% CI]",
                  "max lag (s)", "sustainable", "writer p99 (ms)"],
             [[lb, mode, _f(p["writes_per_tick"]), _f(p["rate_per_s"]), _f(p["rho_median"]), _f(p["rho_max"]),
               _slope(p), _f(p["max_lag_s"]),
               _f(p["sustainable"]), _f(p.get("writer_p99_ms"))]
              for lb, modes in _sec(r, "rate").items() for mode, s in modes.items() for p in s.get("points") or []]),
            ("limits", ["config", "mode", "limit", "writes/tick", "writes/s", "source", "largest measured"],
             [[lb, mode, kind, _f(lim.get("writes_per_tick")) if not lim.get("below") else f"< {_f(lim['below'])}",
               _f(lim.get("rate_per_s")) if not lim.get("below") else _below(lim, s, r.get("period_s", 1)),
               ("measured" if lim.get("measured") else "(extrapolated)")
               + (": no point measured keeps up" if lim.get("below") else ""), _f(lim.get("largest_measured"))]
              for lb, modes in _sec(r, "rate").items() for mode, s in modes.items()
              for kind, lim in (s.get("limits") or {}).items()])]
    crossover = [(f"{lb}, {int(rows):,} rows: crossover at "
                  + (f"{_f(s['crossover_fraction'] * 100)} %" if s.get("crossover_fraction") is not None
                     else f"≥ {_f(s['crossover_at_least'] * 100)} % (extrapolated)"
                     if s.get("crossover_at_least") is not None else "none in range"),
                  ["dirty fraction (%)", "keys", "incremental (ms)", "full (ms)", "speedup"],
                  [[_f(p["fraction"] * 100), _f(p["keys"]), _spread(p["incremental_ms"]), _spread(p["full_ms"]),
                    _f(p["speedup"])] for p in s.get("points") or []]
                  + [[_f(x["fraction"] * 100), DASH, _skipped(x), DASH, DASH] for x in s.get("skipped") or []])
                 for lb, by_rows in _sec(r, "crossover").items() for rows, s in by_rows.items()]
    writers = [("per operation", ["config", "op", "state", "median (µs)", "× absent", "failed (retryable)"],
                [[lb, op, state, _spread(t, "_us"),
                  _f(t["median_us"] / states["absent"]["median_us"])
                  if (states.get("absent") or {}).get("median_us") else DASH,
                  f"{t['failures']}: {t['first_failure']}" if t.get("failures") else "0"]
                 for lb, w in _sec(r, "writers").items() for op, states in (w.get("ops") or {}).items()
                 for state, t in states.items()]),
               ("concurrency", ["config", "state", "writers", "TPS", "p50 (ms)", "p99 (ms)", "failed (retryable)"],
                [[lb, c["state"], _f(c["writers"]), _f(c["tps"]), _f(c["p50_ms"]), _f(c["p99_ms"]),
                  f"{c['failures']}: {c['first_failure']}" if c.get("failures") else "0"]
                 for lb, w in _sec(r, "writers").items() for c in w.get("concurrency") or []]),
               ("the tick loop in 'active', all repetitions", ["config", "ticks", "rows rolled up", "failed ticks"],
                [[lb, _f(t["ticks"]), _f(t["rows"]), _failed_ticks(t)]
                 for lb, w in _sec(r, "writers").items() for t in [w.get("tick_loop")] if t])]
    faults = [("", ["config", "fault", "fault ticks", "recovery (ticks)", "recovery (wall s)"],
               [[lb, n, "–".join(map(str, f.get("fault_ticks") or [])) or DASH, _f(f.get("recovery_ticks")),
                 _f(f.get("recovery_wall_s"))] for lb, fs in _sec(r, "faults").items() for n, f in fs.items()])]
    rate_note = ("Each rate figure names its mode (compressed or live). Headline limits take a measured limit "
                 "first, live before compressed. A limit marked (extrapolated) was not reached by the ladder: it "
                 "comes from the fitted cost model D = a + b·k, not from a measurement.")
    queue = bool(_sec(r, "faults") or _sec(r, "rate"))
    out = [("Tick cost against dirty keys", "keys", [], keys, bool(_sec(r, "keys"))),
           ("History size", None, [], history, bool(_sec(r, "history"))),
           ("A production hour's tick", None, [], density, bool(_sec(r, "density"))),
           ("Sustainable write rate", "rate", [rate_note], rate, bool(_sec(r, "rate"))),
           ("Queue depth and lag", "queue", [], [], queue),
           ("Incremental against full recompute", "crossover", [], crossover, bool(_sec(r, "crossover"))),
           ("Writer overhead", "writers", [], writers, bool(_sec(r, "writers"))),
           ("Faults and recovery", None, [], faults, bool(_sec(r, "faults")))]
    done = [(t, p, n, tb) if ran else (t, None, ["not run"], []) for t, p, n, tb, ran in out]
    if r.get("budget"):
        b = r["budget"]
        checks = sorted(b.get("checks") or [], key=lambda c: c["ok"])  # failures first
        done.append((f"Budget against {b.get('baseline', '?')}", None,
                        ["all checks within budget" if b.get("ok") else "some checks FAILED"],
                        [("", ["status", "target", "pg", "figure", "point", "observed", "baseline", "limit", "ratio"],
                          [["ok" if c["ok"] else "FAIL", c["target"], c["pg"], c["figure"], c["point"],
                            _f(c["observed"]), _f(c.get("baseline")), _f(c["limit"]), _f(c.get("ratio"))]
                           for c in checks])]))
    return done


CSS = ("body{font:14px sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:.5em 0 1.5em}"
       "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}td:first-child,th{text-align:left}"
       "tr.bad td{color:#b00;font-weight:bold}svg{max-width:100%;height:auto}caption{text-align:left}")


def _intro(r: dict) -> list[str]:
    m = r.get("machine") or {}
    configs = ", ".join(f"{c['label']} ({c.get('server_version', '?')}, JIT {c.get('jit', '?')})"
                        for c in r.get("configs") or [])
    return [r.get("description") or "",
            f"Started {r.get('started', '?')}, {_f(r.get('elapsed_s'))} s{' (quick)' if r.get('quick') else ''}; "
            f"{m.get('cores', '?')} cores, Python {m.get('python', '?')}; tick period T = {_f(r.get('period_s'))} s.",
            f"Configurations: {configs or DASH}. Baseline: {r.get('baseline') or DASH}.",
            "Timings are medians with their min–max range in parentheses: the report shows the spread.",
            *(f"The machine's own speed on {pg}: a fixed piece of CPU work took {_f(w['median'])} ms "
              f"({_f(w['min'])}–{_f(w['max'])}, {w['n']} samples, one before every repetition): identical work scattered "
              f"by {w['spread']:.0%} of its median, the yardstick for the ranges below"
              + (f"; {w['slow']:.0%} of the samples took over {SLOW:g}× the fastest (the machine's slow spells)."
                 if "slow" in w else ".")
              for pg, w in (r.get("fixed_work") or {}).items() if w),
            *(f"FAILED sweep {name}: {why}" for name, why in (r.get("failed_sweeps") or {}).items())]


def write_report(results: dict, out_dir: pathlib.Path) -> pathlib.Path:
    """Write index.html, report.md (+ plots/*.svg) and results.json into out_dir; return the HTML's path."""
    out_dir = pathlib.Path(out_dir)
    (out_dir / "plots").mkdir(parents=True, exist_ok=True)
    svgs = _svgs(results)
    for name, svg in svgs.items():
        (out_dir / "plots" / f"{name}.svg").write_text(svg, encoding="utf-8")
    title = f"Capacity report: {results.get('spec', '?')}"
    h = [f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}</title>"
         f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>"]
    from bench.capacity.front import first_screen  # the first screen uses the plan, which the plots do not

    first, first_md = first_screen(results)
    h += first
    h += [f"<p>{html.escape(line)}</p>" for line in _intro(results) if line]
    h += ["<h2>Headline</h2>", _html_table("", HEAD, _headline_rows(results))]
    md = [f"# {title}", "", *first_md] + [line + "\n" for line in _intro(results) if line]
    md += ["## Headline", "", headline_markdown(results), ""]
    for sec_title, plot, notes, tables in _sections(results):
        h.append(f"<h2>{html.escape(sec_title)}</h2>")
        md += [f"## {sec_title}", ""]
        h += [f"<p>{html.escape(n)}</p>" for n in notes]
        md += [f"{n}\n" for n in notes]
        if plot in svgs:  # inline without the XML prolog/DOCTYPE (which holds an external DTD URL)
            h.append(f"<figure>{svgs[plot][svgs[plot].index('<svg'):]}</figure>")
            md += [f"![{plot}](plots/{plot}.svg)", ""]
        for caption, headers, rows in tables:
            if rows:
                h.append(_html_table(caption, headers, rows))
                md += ([f"**{caption}**", ""] if caption else []) + [_md_table(headers, rows), ""]
    h.append("</body></html>")
    (out_dir / "report.md").write_text("\n".join(md), encoding="utf-8")
    (out_dir / "results.json").write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    index = out_dir / "index.html"
    index.write_text("\n".join(h), encoding="utf-8")
    return index
