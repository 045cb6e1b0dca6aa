"""The report's first screen: the verdict (which budget, why), then the plan's answer and its table, its
held-out points and its cost model — what a planner reads before any plot (HTML and Markdown)."""

from __future__ import annotations

import html

from bench.capacity.plan import HEADERS, sentences, table_rows
from bench.capacity.cells import _f, _html_table, _md_table
from bench.capacity.verdict import headline


def first_screen(results: dict) -> tuple[list[str], list[str]]:
    """The verdict (which budget, why), then the plan's answer and its table, then its held-out points: what a
    planner reads before any plot (HTML, Markdown)."""
    head, lines = headline(results)
    e = html.escape
    h = [f"<h2 id=verdict>Verdict: {e(head)}</h2>"] + [f"<p class=bad>{e(x)}</p>" for x in lines[:10]]
    md = [f"## Verdict: {head}", "", *[f"- {x}" for x in lines[:10]], ""]
    plans = results.get("plan") or {}
    if plans:
        h.append("<h2 id=plan>Plan at the production period</h2>")
        md += ["## Plan at the production period", ""]
    for p in plans.values():
        h.append(f"<p>{e(sentences(p))}</p>")
        md += [sentences(p), ""]
        if p.get("scaled"):
            h.append(_html_table("", HEADERS, table_rows(p)))
            md += [_md_table(HEADERS, table_rows(p)), ""]
        rows = held_out_rows(p)
        note = (f"Held-out points of {p['label']}: each predicted by the model fitted on the points measured "
                "before it, then measured — a decade past the last of them, or within their range; and the plan "
                "itself at the rate sweep's rates, against the ticks measured there." if rows
                else f"{p['label']}: no held-out point (fewer than three keys points measured).")
        h.append(f"<p>{e(note)}</p>")
        md += [note, ""]
        if rows:
            h.append(_html_table("", HELD_OUT, rows))
            md += [_md_table(HELD_OUT, rows), ""]
        if p.get("model"):
            m = p["model"]
            terms = ", ".join(f"{k} {v:.4g} ms" + ("" if k == "fixed" else " each") for k, v in m["terms"].items())
            line = (f"Cost model of {p['label']} (non-negative least squares over {m['n']} measured ticks): {terms}; "
                    f"R² {m['r2']:.3f}; residuals median {m['residual_ms']['median']:.3g} ms, largest "
                    f"{m['residual_ms']['max']:.3g} ms; measured ÷ predicted p50 {m['spread']['p50']:.2f}, p99 "
                    f"{m['spread']['p99']:.2f} (HDR histogram)."
                    + " Terms: fixed ms a tick, ms a dirty key, ms a raw row re-read (PostgreSQL's exact count).")
            h.append(f"<p>{e(line)}</p>")
            md += [line, ""]
    return h, md


HELD_OUT = ["point", "predicted (ms)", "measured (ms)", "measured ÷ predicted", ""]


def held_out_rows(p: dict) -> list[list[str]]:
    """A plan's held-out points, one row each (HELD_OUT), a ratio off by more than 25 % said so."""
    return [[_point(x), _f(x["predicted_ms"]), _f(x["measured_ms"]), f"{x['ratio']:.2f}",
             "ok" if abs(x["ratio"] - 1) <= 0.25 else "off by more than 25 %"] for x in p.get("validation") or []]


def _point(x: dict) -> str:
    """A held-out point's name: dirty keys (keys sweep), an hour's rows (density sweep), or a rate (end to end)."""
    if "writes_per_tick" in x:
        return f"rate sweep, {x['writes_per_tick']:,} writes a tick (end to end: the plan at that rate)"
    if "h" in x:
        return f"an hour of {x['h']:,} rows (a decade past; at its measured keys and rows read)"
    return f"k = {x['k']:,}" + (" (within the range)" if x.get("between") else " (a decade past)")
