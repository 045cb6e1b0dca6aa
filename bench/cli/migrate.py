"""`rollup-bench migrate`: a target applied to a fresh database."""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.table import Table

from bench.cli.common import DsnOpt, PgBinOpt, PgOpt, TargetOpt, app, console, err, parse_instant, server
from bench.cli.errors import guarded


@app.command()
def migrate(
    target: TargetOpt = "reference",
    pg: PgOpt = "embedded",
    dsn: DsnOpt = None,
    pg_bin: PgBinOpt = None,
    to: Annotated[Optional[str], typer.Option("--to", help="stop after this version (e.g. 103)")] = None,
    round_trip: Annotated[bool, typer.Option("--round-trip", help="then migrate all the way down and up again")] = False,
    no_hooks: Annotated[bool, typer.Option("--no-hooks", help="skip the hook before 103")] = False,
    at: Annotated[Optional[str], typer.Option("--at", help="simulated start instant (default: now)")] = None,
) -> None:
    """Apply a target's migrations to a fresh database and print what was applied."""
    from bench.orchestrate.migrate import MigratePlan, Told, migrate as apply

    start = parse_instant(at)
    told = Told(warning=lambda w: err.print(f"[yellow]warning:[/] {w}", highlight=False),
                started=lambda backend, version, name: console.print(
                    f"[bold]{backend}[/] PostgreSQL {version} — target [bold]{name}[/]"),
                applied=lambda action, v: console.print(f"  {action:>4}  {v}", highlight=False))
    with guarded():
        applied = apply(server(pg, dsn, pg_bin, (target,)), MigratePlan(target, to, round_trip, not no_hooks, start),
                        told)
    table = Table("version", "file", title=f"applied {len(applied)} migration(s)")
    for version, file in applied:
        table.add_row(version, file)
    console.print(table)
