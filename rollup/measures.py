"""What a rollup table's rows measure, and the optional raw usage columns a target has (both in rollups.toml).

A measure is a column of the rollup table, one of:
- `name = { sum = "input_tokens" }`: the sum of a raw usage column over the bucket's rows;
- `name = { sum = "input_tokens", where = "cost_usd IS NULL" }`: the same over the rows meeting a condition;
- `name = { count = "*" }` (rows) or `{ count = "cost_usd" }` (its non-NULL values), `where` allowed too;
- `name = { count_distinct = "task_id" }`, `where` allowed too.
Columns and conditions name only the usage row's own provider, model, task_id (counts only), token counters and
the target's declared columns: the oracle evaluates a condition with polars (`pl.sql_expr`) on the rows it
derives from the history, the in-database second opinion uses it verbatim as SQL, and both must mean the same
(times are left out: the oracle holds them as microseconds).

A table declares measures beside its bucket and grain; they are added to the six every table of this design
has (DEFAULT_MEASURES: the four token sums, task_count and event_count), a declared name replacing the default of
that name. A declared raw column (`[usage_columns.cost_usd]`: type "numeric" with `scale` digits after the point,
or "bigint"; `share` of usage reports that carry a value, else NULL; values drawn from [0, `max`]) is written by
the generator and the client, and only for targets that declare it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

TOKEN_COLUMNS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
# The raw usage columns a measure or a condition may name (besides declared ones), and those it may sum.
RAW_COLUMNS = ("task_id", "provider", "model", *TOKEN_COLUMNS)
KEY_COLUMNS = ("bucket_hour", "workspace_id", "runtime_id", "agent_id", "project_id", "provider", "model")
AGGREGATES = ("sum", "count", "count_distinct")
COLUMN_TYPES = ("numeric", "bigint")
# Operation fields and upstream columns a declared column must not shadow.
TAKEN = frozenset({*RAW_COLUMNS, "created_at", "updated_at", "changed_xid", "input", "output", "cache_read",
                   "cache_write", "id", "new_task_id", "new_provider", "new_model", "new_created_at"})


class DeclarationError(ValueError):
    """A bad rollups.toml entry; str() is one line: file:line: key: message."""


@dataclass(frozen=True)
class Column:
    """An optional raw column of task_usage."""

    name: str
    type: str  # numeric | bigint
    scale: int = 0  # numeric: digits after the point (the generator writes at most these; the bench compares at them)
    share: float = 1.0  # of usage reports written with a value (the rest NULL)
    max: float = 1.0  # values are drawn from [0, max]

    @property
    def sql_type(self) -> str:
        return f"numeric(38, {self.scale})" if self.type == "numeric" else "bigint"

    def header(self) -> dict:
        """What a history's reader needs of it (the history header records it)."""
        return {"type": self.type, "scale": self.scale}

    @classmethod
    def from_header(cls, name: str, entry: dict) -> Column:
        return cls(name, entry["type"], entry.get("scale", 0))


@dataclass(frozen=True)
class Measure:
    name: str
    agg: str  # sum | count | count_distinct
    column: str  # a raw usage column, or "*" (count only)
    where: str | None = None  # a condition over raw usage columns

    def declaration(self) -> dict:
        return {self.agg: self.column, **({"where": self.where} if self.where else {})}


DEFAULT_MEASURES = (*(Measure(c, "sum", c) for c in TOKEN_COLUMNS), Measure("task_count", "count_distinct", "task_id"),
                    Measure("event_count", "count", "*"))


def numeric_scale(m: Measure, columns: tuple[Column, ...]) -> int | None:
    """The scale of a sum over a numeric column (compared at that scale), None for an integer measure."""
    col = next((c for c in columns if c.name == m.column), None)
    return col.scale if m.agg == "sum" and col is not None and col.type == "numeric" else None


class Lines:
    """file:line: key: for a rollups.toml's entries (tomllib gives no lines: the key's first line will do)."""

    def __init__(self, path: Path, text: str):
        self.path, self.lines = path, text.splitlines()

    def fail(self, key: str, message: str, find: str | None = None):
        name = re.escape(find or key.split(".")[-1])  # its `name =` line, or a [table.name] header
        pattern = re.compile(rf"""^\s*(["']?{name}["']?\s*=|\[+\s*([^\]]*\.)?["']?{name}["']?\s*\])""")
        line = next((n for n, text in enumerate(self.lines, 1) if pattern.match(text)), None)
        raise DeclarationError(f"{self.path}{f':{line}' if line else ''}: {key}: {message}")


def parse_columns(path: Path, text: str, data: dict) -> dict[str, Column]:
    where, out = Lines(path, text), {}
    table = data.get("usage_columns", {})
    if not isinstance(table, dict):
        where.fail("usage_columns", "expected a table of columns ([usage_columns.NAME])")
    for name, e in table.items():
        key = f"usage_columns.{name}"
        if not name.isidentifier() or name.lower() != name or name in TAKEN:
            where.fail(key, "a column needs a plain lower-case SQL name that is not one of task_usage's own", name)
        if not isinstance(e, dict) or set(e) - {"type", "scale", "share", "max"}:
            where.fail(key, "expected a table of type, scale, share and max", name)
        kind = e.get("type")
        if kind not in COLUMN_TYPES:
            where.fail(f"{key}.type", f"expected one of {', '.join(COLUMN_TYPES)}, got {kind!r}", "type")
        scale, share, top = e.get("scale", 6 if kind == "numeric" else 0), e.get("share", 1.0), e.get("max", 1.0)
        if not isinstance(scale, int) or isinstance(scale, bool) or not 0 <= scale <= (12 if kind == "numeric" else 0):
            where.fail(f"{key}.scale", "expected an integer in 0..12 (numeric only)", "scale")
        if not isinstance(share, (int, float)) or isinstance(share, bool) or not 0 <= share <= 1:
            where.fail(f"{key}.share", "expected a number in [0, 1]", "share")
        if not isinstance(top, (int, float)) or isinstance(top, bool) or not 0 <= top <= 1e12:
            where.fail(f"{key}.max", "expected a number in [0, 1e12]", "max")
        out[name] = Column(name, kind, scale, float(share), float(top))
    return out


def parse_measures(where: Lines, key: str, table: object, columns: dict[str, Column]) -> tuple[Measure, ...]:
    """A [[rollup]]'s measures: the defaults, with the declared ones added (or replacing one of that name)."""
    if not isinstance(table, dict):
        where.fail(key, "expected a table of NAME = { sum | count | count_distinct = COLUMN, where = CONDITION }")
    known = (*RAW_COLUMNS, *columns)
    summable = (*TOKEN_COLUMNS, *columns)
    found = {m.name: m for m in DEFAULT_MEASURES}
    for name, e in table.items():
        k = f"{key}.{name}"
        if not name.isidentifier() or name in KEY_COLUMNS:
            where.fail(k, "a measure needs a plain SQL name that is not a key column", name)
        aggs = [a for a in AGGREGATES if isinstance(e, dict) and a in e]
        if not isinstance(e, dict) or len(aggs) != 1 or set(e) - {*AGGREGATES, "where"}:
            where.fail(k, "expected one of sum, count, count_distinct = COLUMN, and optionally where = CONDITION",
                       name)
        agg, column, cond = aggs[0], e[aggs[0]], e.get("where")
        allowed = summable if agg == "sum" else (*known, "*") if agg == "count" else known
        if column not in allowed:
            where.fail(k, f"{agg} of {column!r}: expected one of {', '.join(allowed)}", name)
        if cond is not None:
            _check_condition(where, k, name, cond, known)
        found[name] = Measure(name, agg, column, cond)
    return tuple(found.values())


def _check_condition(where: Lines, key: str, name: str, cond: object, known: tuple[str, ...]) -> None:
    """A condition by PostgreSQL's parse tree (rollup/conditions.py: only what a condition is, naming raw usage
    columns only), then parsed by polars, as the oracle will."""
    import polars as pl  # only when a condition is declared: the CLI's start-up stays light

    from rollup.conditions import ConditionError, check

    if not isinstance(cond, str) or not cond.strip():
        where.fail(f"{key}.where", "expected a condition over raw usage columns, e.g. 'cost_usd IS NULL'", name)
    try:
        check(cond, known)
    except ConditionError as exc:
        where.fail(f"{key}.where", f"{' '.join(cond.split())[:80]!r} is no condition: {exc}", name)
    try:
        pl.sql_expr(cond)
    except (pl.exceptions.PolarsError, ValueError) as exc:
        where.fail(f"{key}.where", f"polars cannot parse {cond!r}: {' '.join(str(exc).split())[:120]}", name)
