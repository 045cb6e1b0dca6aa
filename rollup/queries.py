"""Named-query files, as applications keep their SQL (the sqlc and aiosql conventions), read into statements
psycopg can run.

A query starts at a comment line `-- name: QueryName :many` (sqlc: `:one`, `:exec`, … say what it returns) or
`-- name: query_name` (aiosql, whose marks `^ $ ! *! <! #` after the name are dropped) and runs to the next such
line. Its parameters — `$1`…`$n`, `@name`, `sqlc.arg('name')`, `sqlc.narg(name)` and aiosql's `:name` (a `::type`
cast is not one) — become psycopg's `%(…)s` placeholders, `$k` as `%($k)s`; every other `%` is doubled, since
psycopg reads the whole text. Nothing inside a string ('…', E'…'), a quoted identifier, a comment or a
dollar-quoted body is taken for a parameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


class QueryFileError(ValueError):
    """A bad query file or a bad use of one; str() is one line: file:line: what is wrong."""


@dataclass(frozen=True)
class Query:
    name: str
    line: int  # of its `-- name:` line
    text: str  # the statement in psycopg's form
    params: tuple[str, ...]  # "$1"… for positional parameters, else the name; in order of first use
    param_lines: tuple[int, ...] = ()  # the line of each one's first use


_NAME_LINE = re.compile(r"^\s*--\s*name\s*:(.*)$")
# the name, aiosql's optional signature and marks, sqlc's optional command
_NAME = re.compile(r"^\s*([A-Za-z_]\w*)(?:\([^)]*\))?[\^$!*<#]*(?:\s+:\w+)?\s*$")
_PARAM = re.compile(r"""(?<![\w$])\$(?P<pos>\d+)
                      | (?<![\w.])sqlc\.n?arg\(\s*(?:'(?P<quoted>\w+)'|(?P<bare>\w+))\s*\)
                      | (?<![@\w])@(?P<at>[A-Za-z_]\w*)
                      | (?<![:\w]):(?P<colon>[A-Za-z_]\w*)""", re.X)
_DOLLAR = re.compile(r"(?<![\w$])\$(?:[A-Za-z_]\w*)?\$")


def load(path: Path) -> dict[str, Query]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise QueryFileError(f"{path}: cannot read the query file ({exc.__class__.__name__}: {exc})") from None
    return parse(text, str(path))


def parse(text: str, source: str) -> dict[str, Query]:
    """Every query of a file by name."""
    found: dict[str, Query] = {}
    starts = [(n, m.group(1)) for n, line in enumerate(text.splitlines(), 1) if (m := _NAME_LINE.match(line))]
    lines = text.splitlines(keepends=True)
    for i, (number, rest) in enumerate(starts):
        m = _NAME.match(rest)
        if not rest.strip():
            raise QueryFileError(f"{source}:{number}: '-- name:' without a query name")
        if not m:
            raise QueryFileError(f"{source}:{number}: cannot read a query name in '-- name:{rest}'")
        name = m.group(1)
        if name in found:
            raise QueryFileError(f"{source}:{number}: query {name} again (first at line {found[name].line})")
        end = starts[i + 1][0] - 1 if i + 1 < len(starts) else len(lines)
        raw = "".join(lines[number:end])
        body = raw.strip()
        translated, params, code = translate(body)
        if not code.strip(" \t\r\n;"):
            raise QueryFileError(f"{source}:{number}: query {name} has no statement")
        lead = len(raw) - len(raw.lstrip())  # the body's offset in its lines, for each parameter's line
        at = tuple(number + 1 + raw.count("\n", 0, lead + i) for i in params.values())
        found[name] = Query(name, number, translated, tuple(params), at)
    return found


def translate(sql: str) -> tuple[str, dict[str, int], str]:
    """(the statement in psycopg's form, its parameters in order of first use with the offset of that use, its
    text outside comments)."""
    out, code, params, i = [], [], {}, 0
    while i < len(sql):
        end = _opaque(sql, i)
        if end:
            out.append(sql[i:end].replace("%", "%%"))
            if not sql.startswith(("--", "/*"), i):
                code.append(sql[i:end])
            i = end
            continue
        m = _PARAM.match(sql, i)
        if m:
            key = "$" + m["pos"] if m["pos"] else next(v for v in m.group("quoted", "bare", "at", "colon") if v)
            params.setdefault(key, i)
            out.append(f"%({key})s")
            code.append(key)
            i = m.end()
            continue
        out.append("%%" if sql[i] == "%" else sql[i])
        code.append(sql[i])
        i += 1
    return "".join(out), params, "".join(code)


def _opaque(sql: str, i: int) -> int:
    """Where a string, quoted identifier, comment or dollar-quoted body starting at `i` ends (0: none starts)."""
    c = sql[i]
    if c == "'" or (c in "Ee" and sql.startswith("'", i + 1) and not (i and re.match(r"[\w$]", sql[i - 1]))):
        escapes = c != "'"  # E'…' takes backslash escapes
        j = i + (1 if escapes else 0) + 1
        while j < len(sql):
            if escapes and sql[j] == "\\":
                j += 2
            elif sql[j] == "'":
                if not sql.startswith("'", j + 1):
                    return j + 1
                j += 2  # '' inside a string
            else:
                j += 1
        return len(sql)
    if c == '"':
        j = sql.find('"', i + 1)
        while j != -1 and sql.startswith('"', j + 1):
            j = sql.find('"', j + 2)
        return len(sql) if j == -1 else j + 1
    if sql.startswith("--", i):
        j = sql.find("\n", i)
        return len(sql) if j == -1 else j
    if sql.startswith("/*", i):
        depth, j = 1, i + 2  # PostgreSQL's block comments nest
        while j < len(sql) and depth:
            depth += 1 if sql.startswith("/*", j) else -1 if sql.startswith("*/", j) else 0
            j += 2 if sql.startswith(("/*", "*/"), j) else 1
        return j
    if c == "$" and (m := _DOLLAR.match(sql, i)):
        j = sql.find(m.group(0), m.end())
        return len(sql) if j == -1 else j + len(m.group(0))
    return 0
