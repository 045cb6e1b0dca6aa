"""`rollup-bench capacity-plan`: the planner's answer from a capacity result, and the first lines `capacity`
prints (its verdict, then its plan)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from bench.cli.common import JsonOpt, app, console
from bench.cli.errors import fail


def plans_of(results: dict, ask_spec, **override) -> dict:
    """label → plan for every configuration, at the spec's [plan] unless overridden."""
    from bench.orchestrate.capacity import Ask, plan

    ask = Ask(writes_per_second=override.get("rate") or ask_spec.writes_per_second,
              history_days=override.get("days") or ask_spec.history.total_seconds() / 86400,
              period_s=override.get("period") or ask_spec.period,
              workspaces=override.get("workspaces") or ask_spec.workspaces)
    return {c["label"]: plan(results, c["label"], ask) for c in results.get("configs") or []}


def print_verdict(results: dict) -> None:
    from bench.orchestrate.capacity import headline

    head, lines = headline(results)
    colour = "red" if head.startswith("OVER") else "green" if head.startswith("within") else "yellow"
    console.print(f"[bold {colour}]{head}[/]", highlight=False)
    for line in lines[:10]:
        console.print(f"  [red]over budget[/] {line}", highlight=False)


def print_plans(results: dict) -> None:
    from bench.orchestrate.capacity import HEADERS, HELD_OUT, held_out_rows, sentences, table_rows

    for p in (results.get("plan") or {}).values():
        console.print(sentences(p), highlight=False)
        if p.get("scaled"):
            table = Table(title=f"plan: {p['label']} at ×1, ×10, ×100 the rate and the history")
            for h in HEADERS:
                table.add_column(h, justify="right")
            for row in table_rows(p):
                table.add_row(*row)
            console.print(table)
        if rows := held_out_rows(p):
            table = Table(title=f"held out: {p['label']}, predicted before measured")
            for h in HELD_OUT:
                table.add_column(h, justify="left" if h == "point" else "right")
            for row in rows:
                table.add_row(*row)
            console.print(table)


_SPAN = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def _seconds(text: str, option: str) -> float:
    m = _SPAN.fullmatch(text.strip())
    if not m or float(m.group(1)) <= 0:
        raise fail(f"{option} {text!r}: expected a duration such as 90d, 12h, 5m, 300s")
    return float(m.group(1)) * _UNIT[m.group(2)]


@app.command("capacity-plan")
def capacity_plan(
    results_file: Annotated[Path, typer.Argument(metavar="RESULT", help="a capacity result (results.json)")],
    writes_per_second: Annotated[float, typer.Option("--writes-per-second", help="the production write rate")],
    history: Annotated[str, typer.Option("--history", help="history kept, e.g. 90d")] = "90d",
    workspaces: Annotated[Optional[int], typer.Option("--tenants", help="workspaces (default: the spec's)")] = None,
    target: Annotated[Optional[list[str]], typer.Option("--target", help="configurations (label prefix)")] = None,
    period: Annotated[str, typer.Option("--period", help="the production tick period")] = "5m",
    json_file: JsonOpt = None,
) -> None:
    """Capacity plan at the production period, from a capacity result's cost model: tick p50/p99 with an
    interval, queue and watermark, headroom ρ = D/T, the largest sustainable rate, the history at which the tick
    would pass T, and ×10, ×100 the rate and history."""
    from bench.orchestrate.capacity import PlanSpec

    if writes_per_second <= 0 or writes_per_second != writes_per_second:
        raise fail(f"--writes-per-second {writes_per_second}: expected a positive rate")
    if workspaces is not None and workspaces < 1:
        raise fail(f"--tenants {workspaces}: expected at least 1 workspace")
    days, T = _seconds(history, "--history") / 86400, _seconds(period, "--period")
    try:
        results = json.loads(results_file.read_text())
        results["configs"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise fail(f"{results_file}: not a capacity result ({exc})")
    plans = plans_of(results, PlanSpec(), rate=writes_per_second, days=days, period=T, workspaces=workspaces)
    if target:
        plans = {k: v for k, v in plans.items() if any(k.startswith(t) for t in target)}
        if not plans:
            raise fail(f"--target {', '.join(target)}: no such configuration in {results_file}")
    print_plans({"plan": plans})
    if json_file:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(json.dumps(plans, indent=2, default=str))
