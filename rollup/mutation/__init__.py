"""Mutants of SQL migrations: one-edit copies of a file, proposed by named operators at the positions of
PostgreSQL's own tokens (pglast's scanner, plpgsql bodies scanned in place), each kept only if the edited file
still parses (statements, plpgsql bodies and their SQL). Pure: text in, mutants out — the bench scores them.

A mutant's id is `FILE:LINE:COLUMN:OPERATOR` (FILE the migration's number, as `110`): the same file and edit give
the same id on every run and machine, so a list of known-equivalent mutants can name them."""

from __future__ import annotations

import difflib
import random
from dataclasses import dataclass

from rollup.mutation.operators import OPERATORS, Edit
from rollup.mutation.statements import drop_statement
from rollup.mutation.tokens import line_col, parses, regions

__all__ = ["Mutant", "generate", "OPERATOR_NAMES", "sample"]

OPERATOR_NAMES = ("cmp", "null-safe", "distinct-negate", "bool-flip", "int-up", "int-down", "interval-up",
                  "interval-down", "drop-distinct", "union-all", "greatest-least", "advisory-lock", "coalesce-arg",
                  "drop-conjunct", "trigger-timing", "trigger-level", "trigger-event", "update-of-column",
                  "drop-statement")


@dataclass(frozen=True)
class Mutant:
    id: str
    file: str  # the migration's file name (as `110_window.up.sql`)
    operator: str
    start: int  # the edit: the file's text[start:end] becomes `replacement`
    end: int
    replacement: str
    line: int
    note: str

    def apply(self, text: str) -> str:
        return text[:self.start] + self.replacement + text[self.end:]

    def diff(self, text: str, context: int = 2) -> str:
        """The mutant as a unified diff of its file (a/ the original, b/ the mutant)."""
        lines = difflib.unified_diff(text.splitlines(keepends=True), self.apply(text).splitlines(keepends=True),
                                     f"a/{self.file}", f"b/{self.file}", n=context)
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)

    def as_dict(self) -> dict:
        return {"id": self.id, "file": self.file, "operator": self.operator, "line": self.line, "note": self.note}


def number(file: str) -> str:
    return file.split("_", 1)[0]


def generate(file: str, text: str, operators: set[str] | None = None) -> tuple[list[Mutant], int]:
    """The mutants of one migration file, in the order of their position, and how many edits were proposed and
    dropped as malformed (they did not parse). `operators`: only these (default: all)."""
    edits: dict[tuple[int, int, str], Edit] = {}
    for region in regions(text):
        for op in [*OPERATORS, drop_statement]:
            for e in op(region, text):
                if operators is None or e.operator in operators:
                    edits.setdefault((e.start, e.end, e.operator), e)
    mutants, malformed, seen = [], 0, set()
    for e in sorted(edits.values(), key=lambda e: (e.start, e.end, e.operator)):
        mutated = text[:e.start] + e.replacement + text[e.end:]
        if mutated == text or not parses(mutated):
            malformed += 1
            continue
        line, col = line_col(text, e.start)
        base = f"{number(file)}:{line}:{col}:{e.operator}"
        mid, n = base, 1
        while mid in seen:  # two edits of one operator at one place (removals of different lengths)
            n += 1
            mid = f"{base}.{n}"
        seen.add(mid)
        mutants.append(Mutant(mid, file, e.operator, e.start, e.end, e.replacement, line, e.note))
    return mutants, malformed


def sample(mutants: list[Mutant], n: int | None, seed: int) -> list[Mutant]:
    """`n` of them drawn with `seed` (all when None), kept in the chain's order."""
    if n is None or n >= len(mutants):
        return list(mutants)
    chosen = set(random.Random(seed).sample(range(len(mutants)), n))
    return [m for i, m in enumerate(mutants) if i in chosen]
