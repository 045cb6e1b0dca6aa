"""Targets and read sides as a command names them, checked before any work (a bad one is bad input, exit 2)."""

from __future__ import annotations


def validate(target: str, read_side: str | None = None) -> None:
    """Raise TargetError or ReadSideError (one line each) if the target or its read side cannot be used."""
    from rollup.migrations import Target

    Target.resolve(target, read_side)
