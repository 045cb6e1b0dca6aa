"""A command interrupted by SIGINT, SIGTERM or SIGHUP: one line, everything it started stopped, exit 128 + n.

The handler raises `Interrupted`, a SystemExit: the stack unwinds through every `with` and `finally` (servers
stopped and their folders removed, worker pools and Dask clusters shut down, their processes terminated), no
`except Exception` swallows it, and the interpreter exits with its code without a traceback. A second signal
while that runs is ignored, so the cleanup is not cut short; what a SIGKILL cuts short, the servers' guards
finish (rollup/guard.py).
"""

from __future__ import annotations

import logging
import signal
import sys

HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_received: list[int] = []


class Interrupted(SystemExit):
    """The command was stopped by a signal; its code is 128 + the signal's number."""

    def __init__(self, signum: int):
        super().__init__(128 + signum)
        self.signum = signum


def _quiet() -> None:
    """Dask and asyncio log every connection and task the shutdown cuts: an interrupted command says one line."""
    for name in ("distributed", "tornado", "asyncio", "concurrent.futures"):
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)


def _on_signal(signum, frame) -> None:
    if _received:
        return  # the cleanup the first one started is under way
    _received.append(signum)
    _quiet()
    sys.stderr.write(f"interrupted by {signal.Signals(signum).name}: stopping what this command started "
                     f"(exit {128 + signum})\n")
    sys.stderr.flush()
    raise Interrupted(signum)


def install() -> None:
    for sig in HANDLED:
        signal.signal(sig, _on_signal)
