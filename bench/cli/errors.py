"""Errors to exit codes, the one mapping for every command and the batch workers: 0 all good, 1 an expectation
(or migration) failed, 2 bad input or environment, always with a one-line message and never a traceback."""

from __future__ import annotations

from contextlib import contextmanager

import typer


class ServerLost(RuntimeError):
    """The server went away in the middle of a run (the environment's failure, not the target's)."""


class ClusterError(RuntimeError):
    """A Dask cluster that cannot be used: a bad address, no scheduler there, no workers, workers without the bench."""


def failure(exc: BaseException) -> tuple[str, int] | None:
    """What went wrong and its exit code, the one mapping for the CLI and the batch workers: a failed migration
    is the target's failure (1); bad input (a scenario, spec, target or history) or the environment (a server
    that cannot start, or went away mid-run) is 2. None for anything else: a bug, to be reported whole."""
    # Imported here, not at the top: they pull in polars and the workload, and every command's start-up
    # (even --help) imports this module.
    from bench.workload.schema import ScenarioError
    from rollup.migrations import MigrationError, TargetError
    from rollup.readside import ReadSideError
    from rollup.servers import ProvisionError

    if isinstance(exc, MigrationError):
        return f"migration failed: {exc}", 1
    if isinstance(exc, (ScenarioError, TargetError, ReadSideError, ProvisionError, ServerLost, ClusterError,
                        FileNotFoundError)):
        return str(exc), 2
    return None


def fail(message: str, code: int = 2) -> typer.Exit:
    """Say what went wrong on one line (a server's log excerpt, if any, follows it) and exit with `code`."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@contextmanager
def guarded():
    """Errors to exit codes for every command (`failure`): one line, never a traceback."""
    try:
        yield
    except Exception as exc:
        known = failure(exc)
        if known is None:
            raise
        raise fail(known[0], code=known[1])


