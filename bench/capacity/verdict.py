"""The report's first words: within budget or over, which budget and why — one form for the terminal, the
Markdown and the HTML report."""

from __future__ import annotations

import math


def _n(x, fmt: str = ",.1f") -> str:
    return "not measured" if x is None or (isinstance(x, float) and not math.isfinite(x)) else format(x, fmt)


def check_line(c: dict) -> str:
    """One budget check as a sentence."""
    where = f"{c['target']} on {c['pg']}: {c['figure']} at {c['point']}"
    if c.get("baseline") is None:
        return f"{where}: {c.get('why') or _n(c.get('observed'), '.3g')} (limit {c['limit']:g})"
    kind = "paired ratio" if c.get("paired") else "ratio (unpaired: shown, not judged)"
    interval = (f", 95 % interval {_n(c.get('low'), '.2f')}–{_n(c.get('high'), '.2f')} over {c.get('n')} pairs"
                if c.get("paired") else "")
    return (f"{where}: {_n(c['observed'])} ms against {_n(c['baseline'])} ms, {kind} "
            f"{_n(c.get('ratio'), '.2f')}×{interval} (budget {c['limit']:g}×)")


def headline(results: dict) -> tuple[str, list[str]]:
    """('within budget' | 'over budget' | 'no budget judged', the failing checks as sentences)."""
    b = results.get("budget")
    failed = results.get("failed_sweeps") or {}
    if not b:
        return ("no budget judged (the spec declares none)", [f"sweep {k} failed: {v}" for k, v in failed.items()])
    bad = [check_line(c) for c in b["checks"] if not c["ok"]]
    judged = len(b["checks"])
    if bad:
        return (f"OVER BUDGET against {b['baseline']}: {len(bad)} of {judged} checks", bad)
    return (f"within budget against {b['baseline']}: {judged} checks"
            + (f"; but sweeps failed: {', '.join(failed)}" if failed else ""),
            [f"sweep {k} failed: {v}" for k, v in failed.items()])
