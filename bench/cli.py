"""The `rollup-bench` command line. Exit codes: 0 all good, 1 an expectation (or migration) failed, 2 bad
input or environment."""

from __future__ import annotations

import signal
import sys
from datetime import UTC, datetime
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from rollup import clock
from rollup.database import Database
from rollup.migrations import MigrationError, Runner, Target, TargetError
from rollup.servers import BACKENDS, ProvisionError, start_server

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Simulation and verification bench for the task_usage_hourly rollup.")
console = Console()
err = Console(stderr=True)

PgOpt = Annotated[str, typer.Option("--pg", help=f"PostgreSQL backend: {', '.join(BACKENDS)}")]
DsnOpt = Annotated[Optional[str], typer.Option("--dsn", help="connection URL for --pg dsn")]
PgBinOpt = Annotated[Optional[str], typer.Option("--pg-bin", help="directory of initdb/pg_ctl for --pg local")]
TargetOpt = Annotated[str, typer.Option("--target", help="reference, hardened, or migration directories (a,b)")]


def fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def parse_instant(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC).replace(microsecond=0)
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise fail(f"--at {text!r} is not an ISO 8601 instant (e.g. 2026-03-01T12:00Z)")
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _terminate(signum, frame):  # SIGTERM unwinds like Ctrl-C, so servers are stopped and data removed
    sys.exit(128 + signum)


@app.callback()
def main() -> None:
    signal.signal(signal.SIGTERM, _terminate)


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
    try:
        tgt = Target.resolve(target)
        if to:
            tgt.find(to)
        with start_server(pg, dsn=dsn, pg_bin=pg_bin) as server, Database(server, start) as db:
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
    except (ProvisionError, TargetError) as exc:
        raise fail(str(exc))
    except MigrationError as exc:
        raise fail(f"migration failed: {exc}", code=1)
