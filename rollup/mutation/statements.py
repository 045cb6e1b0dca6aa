"""Statements removed, one at a time: a statement of a plpgsql body (a compound one — IF, LOOP, CASE, a block —
whole, and each statement inside it too), and a top-level statement of a migration (an index or a comment
aside: their removal changes no result)."""

from __future__ import annotations

from collections.abc import Iterator

from rollup.mutation.operators import Edit, is_index_or_comment
from rollup.mutation.tokens import Region, Token

OPENERS = {"if": "then", "elsif": "then", "when": "then", "case": "then", "for": "loop", "while": "loop",
           "foreach": "loop"}


def _to(toks: list[Token], i: int, word: str) -> int:
    """The index of the next `word` at the same parenthesis and CASE level as toks[i] (len(toks) if none)."""
    depth = 0
    for j in range(i, len(toks)):
        w = toks[j].word
        if depth == 0 and w == word and j > i:
            return j
        if w == "(" or (w == "case" and j > i):
            depth += 1
        elif (w == ")" or w == "end") and depth > 0:
            depth -= 1
    return len(toks)


def body_statements(toks: list[Token]) -> list[tuple[int, int]]:
    """Every statement of a plpgsql body after its first BEGIN, nested ones included, as inclusive token ranges
    ending at their `;`."""
    i = next((n for n, t in enumerate(toks) if t.word == "begin"), None)
    if i is None:
        return []
    found: list[tuple[int, int]] = []
    stack: list[int] = []  # where each open compound statement starts
    i += 1
    while i < len(toks):
        w = toks[i].word
        if w == "end":  # END [IF | LOOP | CASE] [label] ;
            semi = _to(toks, i, ";")
            if stack:
                found.append((stack.pop(), semi))
            i = semi + 1
        elif w in ("else", "exception"):
            i += 1
        elif w in ("elsif", "when"):
            i = _to(toks, i, "then") + 1
        elif w in ("if", "case", "for", "while", "foreach", "loop", "begin", "declare"):
            stack.append(i)
            if w == "declare":
                i = _to(toks, i, "begin") + 1
            else:
                i = (i if w in ("loop", "begin") else _to(toks, i, OPENERS[w])) + 1
        elif toks[i].text == "<<":  # a label: <<name>>
            i = _to(toks, i, ">>") + 1
        else:
            semi = _to(toks, i, ";")
            found.append((i, semi))
            i = semi + 1
    return sorted(found)


def whole_lines(text: str, start: int, end: int) -> tuple[int, int]:
    """A removal widened to whole lines when it leaves only blanks on them (a clean diff)."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    if text[line_start:start].strip() == "" and text[end:line_end].strip() == "":
        return line_start, min(line_end + 1, len(text))
    return start, end


def drop_statement(region: Region, text: str) -> Iterator[Edit]:
    toks = region.tokens
    if region.kind == "plpgsql":
        ranges = body_statements(toks)
    elif region.kind == "sql-body":
        ranges = [(a, b) for a, b in _split(toks)] if len(_split(toks)) > 1 else []
    else:
        ranges = [] if is_index_or_comment(toks) else [(0, len(toks) - 1)]
    for a, b in ranges:
        start, end = whole_lines(text, toks[a].start, toks[b].end)
        shown = " ".join(text[toks[a].start:toks[b].end].split())
        shown = shown if len(shown) <= 80 else shown[:80] + "…"
        yield Edit("drop-statement", start, end, "", f"statement removed: {shown}")


def _split(toks: list[Token]) -> list[tuple[int, int]]:
    out, first = [], 0
    for j, t in enumerate(toks):
        if t.text == ";":
            out.append((first, j))
            first = j + 1
    return out + ([(first, len(toks) - 1)] if first < len(toks) else [])
