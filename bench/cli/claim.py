"""Runs isolated from their neighbours: a command's report folder is its own, and its output files can be written.

A command that writes a report folder first claims it: an exclusive lock (flock) on `<folder>/.rollup-bench.lock`,
held until the process ends (the kernel drops it however the process ends, SIGKILL included). If another command
holds it — two gates on one CI runner, with the same default folder — this one writes under a folder of its own
inside, `<folder>/<command>-<UTC time>-<pid>/`, and says so on one line; the replay lines it prints point there.
So two commands never write the same file, and one alone writes where it always did (docs/ci.md#neighbours).

Output files (`--json`, `--junit`, `--summary`, `--write-baseline`) are checked before anything runs: a path
under a file, or a folder where a file is wanted, is a one-line error then, not after the whole batch.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from bench.cli.common import err
from bench.cli.errors import fail

LOCK = ".rollup-bench.lock"
_claimed: dict[Path, tuple[int, Path]] = {}  # folder asked for -> (its lock's descriptor, the folder used)


def claim(folder: Path, command: str) -> Path:
    """The folder this command writes its reports in: `folder` if no other command holds it, else a new one of its
    own inside it. Claimed once per process (a batch's workers inherit the parent's)."""
    key = folder.resolve()
    if key in _claimed:
        return _claimed[key][1]
    writable_folder(folder, "--report-dir")
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        used = folder
    except BlockingIOError:
        used = folder / f"{command}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{os.getpid()}"
        used.mkdir(parents=True, exist_ok=True)
        err.print(f"note: {folder} is in use by another rollup-bench command: this one writes under {used}",
                  highlight=False, soft_wrap=True)
    _claimed[key] = (fd, used)
    return used


def writable_folder(folder: Path, option: str, given: Path | None = None) -> None:
    """A one-line error unless `folder` is a folder or can be made one (no file in the way); `given`: the path
    the option named, if not the folder itself."""
    for p in (folder, *folder.parents):
        if p.exists():
            if not p.is_dir():
                raise fail(f"{option} {given or folder}: {p} is a file, not a folder")
            if not os.access(p, os.W_OK | os.X_OK):
                raise fail(f"{option} {given or folder}: {p} is not writable")
            return


def writable_file(path: Path | None, option: str) -> None:
    """A one-line error unless the file `path` (if given) can be written: no folder in its place, none of its
    parents a file."""
    if path is None:
        return
    if path.is_dir():
        raise fail(f"{option} {path}: is a folder, not a file")
    writable_folder(path.parent, option, path)
