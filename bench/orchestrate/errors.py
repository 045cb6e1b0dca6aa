"""The failures a run or a batch can end in, and their exit codes: 0 all good, 1 an expectation (or migration)
failed, 2 bad input or environment. The one mapping for every command and the batch workers."""

from __future__ import annotations


class ServerLost(RuntimeError):
    """The server went away in the middle of a run (the environment's failure, not the target's)."""


class BadInput(ValueError):
    """A file or option the command cannot use, said in one line (exit 2)."""


class ClusterError(RuntimeError):
    """A Dask cluster that cannot be used: a bad address, no scheduler there, no workers, workers without the bench."""


def failure(exc: BaseException) -> tuple[str, int] | None:
    """What went wrong and its exit code, the one mapping for the CLI and the batch workers: a failed migration
    is the target's failure (1); bad input (a scenario, spec, target or history) or the environment (a server
    that cannot start, or went away mid-run) is 2. None for anything else: a bug, to be reported whole."""
    # Imported here, not at the top: they pull in polars and the workload, and every command's start-up
    # (even --help) imports this module.
    from bench.drive.watchdog import Stuck
    from bench.workload.schema import ScenarioError
    from rollup.migrations import MigrationError, TargetError
    from rollup.readside import ReadSideError
    from rollup.servers import ProvisionError

    if isinstance(exc, MigrationError):
        return f"migration failed: {exc}", 1
    if isinstance(exc, Stuck):  # the target never let a statement finish: its failure, named (bench/drive/watchdog)
        return str(exc), 1
    if isinstance(exc, (ScenarioError, TargetError, ReadSideError, ProvisionError, ServerLost, ClusterError, BadInput,
                        FileNotFoundError)):
        return str(exc), 2
    return None
