"""The hash chain that lets a history prove its own integrity (docs/history.md#integrity).

Every line of a history ends with `,"~":"<16 hex digits>"}`: the blake2b-64 digest of the previous line's link
(nothing before the header) followed by this line up to its closing brace, without its own link. A key named
`~` sorts after every other, so lines stay canonical JSON and one seed still gives one file. An altered line
breaks the chain at itself; a dropped or inserted one at the line after the gap (or at itself). Whoever rewrites
every link after a change can forge it — the chain finds accidents and careless edits; the verdict's
`history_sha256` names its content (the lines without their links).
"""

from __future__ import annotations

import re
from hashlib import blake2b
from pathlib import Path

_KEY = b',"~":"'
_TAIL = len(_KEY) + 16 + 2  # the key, the link, '"}'


class HistoryError(ValueError):
    """A history whose chain breaks: str() is one line, file:line: what."""


class Chain:
    """The writer's side: each line given its link, in the order written."""

    def __init__(self) -> None:
        self._last = b""

    def link(self, line: bytes) -> bytes:
        """`line` (one JSON object and its newline) with its link added."""
        body = line[:-2]  # without "}\n"
        self._last = blake2b(self._last + body, digest_size=8).hexdigest().encode()
        return b"%s,\"~\":\"%s\"}\n" % (body, self._last)


def verify(data: bytes, path: Path | str) -> str | None:
    """Check the chain of a history's bytes: None if every line holds, a note if the history predates the chain
    (its header has no link), else HistoryError naming the first line that breaks it."""
    lines = data.split(b"\n")
    if _link(lines[0]) is None:
        return f"{path}: written before histories were chained: its integrity cannot be verified"
    if lines[-1]:
        raise HistoryError(f"{path}:{len(lines)}: the last line is cut short (no newline): the history was truncated")
    last = b""
    for n, line in enumerate(lines[:-1], 1):
        want = blake2b(last + line[:-_TAIL], digest_size=8).hexdigest().encode()
        if _link(line) != want:
            raise HistoryError(f"{path}:{n}: the history's chain breaks here: this line was altered, or one "
                               "before it dropped or inserted")
        last = want
    return None


def _link(line: bytes) -> bytes | None:
    """The link a line ends with, if it ends with one."""
    return line[-18:-2] if line[-_TAIL:-18] == _KEY and line.endswith(b'"}') else None


_LINKS = re.compile(rb',"~":"[0-9a-f]{16}"}$', re.M)


def unlinked(data: bytes) -> bytes:
    """A history's bytes without the chain's links: its content, which its sha256 names (one run, one digest,
    whether its lines are chained or written before the chain)."""
    return _LINKS.sub(b"}", data)
