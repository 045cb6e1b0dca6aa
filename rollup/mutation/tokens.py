"""A migration file as PostgreSQL's own scanner sees it: its tokens (comments aside), split into top-level
statements, with the body of every dollar-quoted function or DO block scanned again as a region of its own, at
its place in the file — so an edit made at a token's position is an edit of the file's text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pglast
from pglast import parser

COMMENTS = {"SQL_COMMENT", "C_COMMENT"}
DOLLAR = re.compile(r"\$([A-Za-z_][A-Za-z_0-9]*)?\$")


@dataclass(frozen=True)
class Token:
    start: int  # character offset in the file
    end: int  # exclusive
    name: str  # the scanner's name: IDENT, ICONST, AND, ASCII_40 …
    text: str

    @property
    def word(self) -> str:
        """The token's text in lower case: keywords of plpgsql are identifiers to the core scanner."""
        return self.text.lower()


@dataclass
class Region:
    """Tokens that belong together: one top-level statement ('sql'), or a function's body ('plpgsql', 'sql-body')."""

    kind: str
    tokens: list[Token]
    statement: list[Token] = field(default_factory=list)  # the top-level statement it is (or whose body it is)


def scan(text: str, offset: int = 0) -> list[Token]:
    """`text`'s tokens without comments, positioned in the file (`offset`: where `text` starts in it)."""
    return [Token(t.start + offset, t.end + 1 + offset, t.name, text[t.start:t.end + 1])
            for t in parser.scan(text) if t.name not in COMMENTS]


def statements(tokens: list[Token]) -> list[list[Token]]:
    """Top-level statements: tokens split at each `;` (a function's body is one string token, so its own `;` do
    not split it)."""
    out, current = [], []
    for t in tokens:
        current.append(t)
        if t.text == ";":
            out.append(current)
            current = []
    return out + ([current] if current else [])


def words(stmt: list[Token], n: int = 6) -> list[str]:
    return [t.word for t in stmt[:n]]


def language(stmt: list[Token]) -> str | None:
    for a, b in zip(stmt, stmt[1:]):
        if a.word == "language":
            return b.word.strip("'\"")
    return None


def body_of(stmt: list[Token]) -> tuple[Token, str] | None:
    """A function's or DO block's dollar-quoted body token, with the body's language; None otherwise."""
    w = words(stmt)
    is_function = w[:1] == ["create"] and ("function" in w or "procedure" in w)
    if not (is_function or w[:1] == ["do"]):
        return None
    lang = language(stmt) or ("plpgsql" if w[:1] == ["do"] else None)
    for t in stmt:
        if t.name == "SCONST" and DOLLAR.match(t.text):
            return t, lang or ""
    return None


def regions(text: str) -> list[Region]:
    """The file's regions: each top-level statement, and each plpgsql or SQL function body."""
    out = []
    for stmt in statements(scan(text)):
        out.append(Region("sql", stmt, stmt))
        found = body_of(stmt)
        if found is None:
            continue
        token, lang = found
        tag = DOLLAR.match(token.text).group(0)
        inner = text[token.start + len(tag):token.end - len(tag)]
        if lang not in ("plpgsql", "sql"):
            continue
        try:
            tokens = scan(inner, token.start + len(tag))
        except pglast.Error:
            continue  # a body the core scanner cannot read: left alone
        out.append(Region("plpgsql" if lang == "plpgsql" else "sql-body", tokens, stmt))
    return out


def parses(text: str) -> bool:
    """Whether PostgreSQL's parser takes the file: its statements, every plpgsql body (its SQL included), and
    every SQL function body."""
    try:
        pglast.parse_sql(text)
        if re.search(r"plpgsql", text, re.IGNORECASE):
            pglast.parse_plpgsql(text)
        for region in regions(text):
            if region.kind == "sql-body" and region.tokens:
                pglast.parse_sql(text[region.tokens[0].start:region.tokens[-1].end])
    except pglast.Error:
        return False
    except Exception:  # noqa: BLE001 (libpg_query's plpgsql side raises plain errors on some inputs)
        return False
    return True


def line_col(text: str, pos: int) -> tuple[int, int]:
    before = text[:pos]
    return before.count("\n") + 1, pos - (before.rfind("\n") + 1) + 1
