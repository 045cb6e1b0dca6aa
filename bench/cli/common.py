"""What every command shares: the Typer app, the consoles, the options' declarations and their parsing."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from bench.cli import signals
from bench.cli.errors import fail
from bench.orchestrate.request import ServerSpec
from rollup.extensions import AUTO
from rollup.servers import BACKENDS

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Simulation and verification bench for the task_usage_hourly rollup.")


def _console(**options) -> Console:
    """A console; in a CI log (not a terminal, no COLUMNS) 160 columns wide, not rich's 80: a table's cells
    wrapped over five lines read worse there than a long line."""
    c = Console(**options)
    if not c.is_terminal and "COLUMNS" not in os.environ:
        c.width = 160
    return c


console = _console()
err = _console(stderr=True)

PgOpt = Annotated[str, typer.Option("--pg", help=f"PostgreSQL backend: {', '.join(BACKENDS)}, or {AUTO} (the first "
                                                 "of embedded, local, docker with the extensions the chain creates)")]
DsnOpt = Annotated[Optional[str], typer.Option("--dsn", help="connection URL for --pg dsn")]
PgBinOpt = Annotated[Optional[str], typer.Option("--pg-bin", help="directory of initdb/pg_ctl for --pg local")]
TargetOpt = Annotated[str, typer.Option("--target", help="reference, hardened, or migration directories (a,b)")]
PgListOpt = Annotated[str, typer.Option("--pg", help=f"PostgreSQL backend(s), comma-separated for a matrix: "
                                                     f"{', '.join(BACKENDS)}, {AUTO}")]
ReadSideOpt = Annotated[Optional[str], typer.Option("--read-side", help="faithful, hardened, a named-query .sql "
                                                                         "file or a .toml read-side file (default: "
                                                                         "the target's own: hardened for hardened)")]
def _jobs(value: int | None) -> int | None:
    if value is not None and value < 1:  # refused here, for every command that takes it
        raise fail(f"--jobs {value}: must be at least 1")
    return value


JobsOpt = Annotated[Optional[int], typer.Option("--jobs", "-j", help="parallel workers (default: the cores)",
                                               callback=_jobs)]
JunitOpt = Annotated[Optional[Path], typer.Option("--junit", help="write JUnit XML here (a testcase per run)")]
SummaryOpt = Annotated[Optional[Path], typer.Option("--summary", help="append a Markdown summary here (on GitHub "
                                                                       "Actions: $GITHUB_STEP_SUMMARY unless "
                                                                       "given; 'none': no summary)")]
ClusterOpt = Annotated[Optional[str], typer.Option("--cluster", help="run on a Dask cluster: a scheduler's address "
                                                                   "(tcp://HOST:8786), or 'local' (--jobs worker "
                                                                   "processes here)")]
ShardOpt = Annotated[Optional[str], typer.Option("--shard", help="run only the K-th of N slices of the runs (K/N), "
                                                                 "to join with rollup-bench merge")]



ReportDirOpt = Annotated[Path, typer.Option("--report-dir", help="where the history and reports are written")]
JsonOpt = Annotated[Optional[Path], typer.Option("--json", help="also write the JSON verdict here")]


ConfigOpt = Annotated[Optional[Path], typer.Option("--config", help="the project's configuration (default: the "
                                                               "nearest rollup-bench.toml or pyproject.toml with "
                                                               "\\[tool.rollup-bench])")]



def parse_instant(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC).replace(microsecond=0)
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise fail(f"--at {text!r} is not an ISO 8601 instant (e.g. 2026-03-01T12:00Z)")
    return t if t.tzinfo else t.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Outputs:
    """The files a command writes besides the terminal: its JSON, JUnit XML and Markdown summary."""

    json: Path | None = None
    junit: Path | None = None
    summary: Path | None = None


def outputs(json_file: Path | None, junit: Path | None, summary_file: Path | None) -> Outputs:
    """On GitHub Actions, the summary goes to $GITHUB_STEP_SUMMARY unless --summary names a file, or 'none'."""
    if summary_file is None and os.environ.get("GITHUB_ACTIONS") == "true":
        summary_file = Path(os.environ["GITHUB_STEP_SUMMARY"]) if os.environ.get("GITHUB_STEP_SUMMARY") else None
    elif summary_file is not None and str(summary_file) == "none":
        summary_file = None
    return Outputs(json_file, junit, summary_file)


def servers(pg: str, dsn: str | None, pg_bin: str | None, targets: tuple[str, ...] = ()) -> list[ServerSpec]:
    """--pg embedded,local: the servers of a matrix, each a known backend (`auto` chosen for `targets`)."""
    pgs = list(dict.fromkeys(p.strip() for p in pg.split(",") if p.strip()))
    unknown = [p for p in pgs if p not in (*BACKENDS, AUTO)]
    if not pgs or unknown:
        raise fail(f"--pg {pg!r}: unknown backend {', '.join(unknown) or '(none given)'}; "
                   f"choose from {', '.join(BACKENDS)}, {AUTO}")
    return list(dict.fromkeys(server(p, dsn, pg_bin, targets) for p in pgs))


def server(pg: str, dsn: str | None, pg_bin: str | None, targets: tuple[str, ...]) -> ServerSpec:
    """The server `--pg` names; for `auto`, the first that has every extension the targets' chains create, said
    on stderr with why."""
    spec, why = ServerSpec(pg, dsn, pg_bin).chosen(targets)
    if why:
        err.print(f"server: {why}", highlight=False, soft_wrap=True)
    return spec


def side_flag(read_side: str | None) -> str:
    return f" --read-side {read_side}" if read_side else ""


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    from bench.orchestrate.records import ScenarioWarning

    if issubclass(category, ScenarioWarning):  # a scenario's own: one line, like its errors
        err.print(f"warning: {message}", highlight=False, soft_wrap=True)
    else:
        _python_warning(message, category, filename, lineno, file, line)


_python_warning = warnings.showwarning


@app.callback()
def main() -> None:
    from bench.orchestrate import project

    project.forget()  # every command reads the project's configuration once, afresh
    signals.install()  # SIGINT, SIGTERM, SIGHUP: everything started stopped, one line, exit 128 + n
    warnings.showwarning = _show_warning


