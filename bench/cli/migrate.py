"""`rollup-bench migrate`: a target applied to a fresh database."""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.table import Table

from bench.cli.common import DsnOpt, PgBinOpt, PgOpt, TargetOpt, app, console, err, parse_instant, pick
from bench.cli.errors import guarded
from rollup import clock
from rollup.database import Database
from rollup.migrations import Runner, Target
from rollup.servers import start_server


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
    start = parse_instant(at)
    with guarded():
        tgt = Target.resolve(target)
        if to:
            tgt.find(to)
        with start_server(pick(pg, (target,), pg_bin), dsn=dsn, pg_bin=pg_bin) as server, \
                Database(server, start) as db:
            for w in clock.scan(tgt.sql_files()):
                err.print(f"[yellow]warning:[/] {w}", highlight=False)
            runner = Runner(db, tgt, hooks={} if no_hooks else None,
                            on_apply=lambda action, v: console.print(f"  {action:>4}  {v}", highlight=False))
            console.print(f"[bold]{server.backend}[/] PostgreSQL {server.version()} — target [bold]{tgt.name}[/]")
            applied = runner.up(to)
            if round_trip:
                runner.down(None)
                applied = runner.up(to)
            table = Table("version", "file", title=f"applied {len(applied)} migration(s)")
            for m in tgt.migrations():
                if m.version in applied:
                    table.add_row(m.version, str(m.up.parent.name + "/" + m.up.name))
            console.print(table)


