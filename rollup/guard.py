"""The guard of a server the bench starts: a tiny process that outlives its owner by a few seconds.

`rollup.servers` starts one per server, in a session of its own (no signal meant for the bench's process group
reaches it), with a pipe from the bench on its stdin. The bench never writes to the pipe; the guard only waits for
it to close, which the kernel does when the bench exits, however it exits — SIGKILL included. By then a bench that
stopped its server has removed the work directory, and the guard has nothing to do; otherwise it stops every
process started in that directory (the postmaster, an initdb or pg_ctl in flight) and removes it.

Run as a script (`python -I guard.py WORKDIR`), not as `-m rollup.guard`: it imports nothing of the bench, so it
starts in a few milliseconds and does not depend on the bench's environment being importable.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time

GRACE = 5.0  # seconds a postmaster gets for its immediate shutdown (SIGQUIT) before SIGKILL
GIVE_UP = 60.0  # seconds after which the guard stops trying (something else keeps restarting processes there)


def started_in(workdir: str) -> dict[int, bool]:
    """The processes whose command line names `workdir` (initdb, pg_ctl, postgres -D …), each with whether it is
    the postmaster its postmaster.pid names. Backends rename themselves, but die with their postmaster."""
    needle = os.path.join(workdir, "").encode()  # the directory and not a longer name that starts with it
    postmaster = None
    try:
        with open(os.path.join(workdir, "data", "postmaster.pid")) as f:
            postmaster = int(f.readline())
    except (OSError, ValueError):
        pass
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        if needle in cmdline:
            found[int(entry)] = int(entry) == postmaster
    if postmaster and postmaster not in found and os.path.exists(f"/proc/{postmaster}"):
        try:  # a postmaster whose command line was rewritten still names its data directory's parent as cwd
            if os.readlink(f"/proc/{postmaster}/cwd").startswith(os.path.join(workdir, "")):
                found[postmaster] = True
        except OSError:
            pass
    return found


def reap(workdir: str) -> None:
    """Stop what runs in `workdir` (SIGQUIT to the postmaster, SIGKILL to the rest, SIGKILL to all after GRACE),
    then remove it; done when nothing has run there for a moment."""
    start, quiet_since = time.monotonic(), None
    while time.monotonic() - start < GIVE_UP:
        procs = started_in(workdir)
        late = time.monotonic() - start > GRACE
        for pid, is_postmaster in procs.items():
            try:
                os.kill(pid, signal.SIGQUIT if is_postmaster and not late else signal.SIGKILL)
            except OSError:
                pass
        if procs:
            quiet_since = None
        else:
            shutil.rmtree(workdir, ignore_errors=True)
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since > 0.5 and not os.path.exists(workdir):
                return
        time.sleep(0.05)
    shutil.rmtree(workdir, ignore_errors=True)


def main(workdir: str) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)  # only the pipe's end tells it to act
    while os.read(0, 4096):
        pass
    if os.path.isdir(workdir):
        reap(workdir)


if __name__ == "__main__":
    main(sys.argv[1])
