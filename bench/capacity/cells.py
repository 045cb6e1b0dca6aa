"""Table cells shared by the report and its first screen: a number short enough for a cell ("not measured",
never NaN), and a table as HTML or Markdown."""

from __future__ import annotations

import html
import math

DASH = "—"
NOT_MEASURED = "not measured"


def _f(x, suffix: str = "") -> str:
    """A number short enough for a table cell."""
    if x is None:
        return DASH
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return f"{x:,}{suffix}"
    if not math.isfinite(x):  # a figure that could not be computed (a slope over too few ticks): say so
        return NOT_MEASURED
    a = abs(x)
    return (f"{x:,.0f}" if a >= 100 else f"{x:.2f}" if a >= 1 else f"{x:.3g}") + suffix


def _html_table(caption, headers, rows) -> str:
    e = lambda c: html.escape(str(c))  # noqa: E731
    body = "".join(("<tr class=bad>" if r and r[0] == "FAIL" else "<tr>") + "".join(f"<td>{e(c)}</td>" for c in r)
                   + "</tr>" for r in rows)
    cap = f"<caption>{e(caption)}</caption>" if caption else ""
    return f"<table>{cap}<tr>{''.join(f'<th>{e(h)}</th>' for h in headers)}</tr>{body}</table>"


def _md_table(headers, rows) -> str:
    cell = lambda c: str(c).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = ["| " + " | ".join(map(cell, headers)) + " |", "|" + "---|" * len(headers)]
    return "\n".join(lines + ["| " + " | ".join(map(cell, r)) + " |" for r in rows])
