"""`rollup-bench diff`: one operation stream on two targets in lockstep (`bench.orchestrate.lockstep`), and where their
rollups differ."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bench.cli.common import DsnOpt, JsonOpt, PgBinOpt, PgOpt, ReportDirOpt, app, console, server
from bench.cli.claim import claim
from bench.cli.errors import fail, guarded
from bench.cli.show import progress_bar, span_of
from rollup.clock import from_us


@app.command()
def diff(
    scenario: Annotated[Path, typer.Argument(help="scenario TOML file")],
    a: Annotated[str, typer.Option("--a", help="first target")] = "reference",
    b: Annotated[str, typer.Option("--b", help="second target")] = "hardened",
    every: Annotated[int, typer.Option("--every", help="compare after every N ticks (and at every check)")] = 12,
    pg: PgOpt = "embedded",
    dsn: DsnOpt = None,
    pg_bin: PgBinOpt = None,
    report_dir: ReportDirOpt = Path("reports/diff"),
    json_file: JsonOpt = None,
) -> None:
    """Run one operation stream on two targets in lockstep and report where their rollups differ."""
    from bench.orchestrate.lockstep import lockstep, run_diff

    if every < 1:
        raise fail("--every must be at least 1")
    with guarded():
        report_dir = claim(report_dir, "diff")
        step = lockstep(scenario, a, b, report_dir, every)
        sc = step.sc
        with server(pg, dsn, pg_bin, (a, b)).start() as db_server, \
                progress_bar(f"{sc.name}: {a} vs {b}", span_of(sc)) as on_progress:
            result = run_diff(db_server, step, on_progress)
    table = Table("simulated time", "keys differing", "first difference", title=f"{sc.name}: {a} (a) vs {b} (b)")
    for d in result.divergences[:40]:
        e = d.examples[0]
        table.add_row(from_us(d.at).strftime("%Y-%m-%d %H:%M"), str(d.keys),
                      f"{e['side']} {e['bucket_hour'][:16]} agent {e['agent_id'][:8]} {e['model']} {e['deltas']}")
    console.print(table)
    console.print(f"{result.compared} comparisons, {len(result.divergences)} with differences; "
                  f"histories: {result.histories[0]}, {result.histories[1]}", highlight=False)
    if json_file:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(json.dumps({"scenario": sc.name, "a": a, "b": b, "compared": result.compared,
                                         "divergences": [dataclasses.asdict(d) for d in result.divergences]},
                                        indent=2, default=str))
    raise typer.Exit(1 if result.divergences else 0)
