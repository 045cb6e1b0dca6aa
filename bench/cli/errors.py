"""Errors to exit codes, the one mapping for every command and the batch workers: 0 all good, 1 an expectation
(or migration) failed, 2 bad input or environment, always with a one-line message and never a traceback."""

from __future__ import annotations

from contextlib import contextmanager

import typer

from bench.orchestrate.errors import ClusterError, ServerLost, failure  # noqa: F401 (re-exported for commands)


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


