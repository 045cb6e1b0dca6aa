"""The history: every operation as an invoke, then ok, fail or info (outcome unknown), one JSON line each.

Lines are canonical JSON (sorted keys, no spaces), so one seed gives byte-identical files and the sha256 names a
run. The first line is a header naming the scenario. Reading is columnar (polars) so the oracle never loops over
rows in Python.

Each line ends with a link of a hash chain, `"~"` (sorted last): blake2b-64 of the previous line's link and this
line without its own. Reading checks it, so a line altered, dropped or inserted is named (`HistoryError`,
bench/drive/chain.py); a history from before the chain reads with a note.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import orjson
import polars as pl

from bench.drive.chain import Chain, unlinked, verify
from bench.workload.ops import BOOL_FIELDS, CATALOG, FIELDS, INT_FIELDS, WORKLOAD, WRITES, Op
from rollup.measures import Column

FORMAT = 1
BLOCK = 1 << 16  # bytes gathered before they are hashed and written
OUTCOMES = ("ok", "fail", "info")
TRANSACTIONS = ("begin", "lock", "commit", "rollback", "restart")  # operations that open or end held transactions
TICK_RETURNED_FAILURE = "the tick returned -1 (its failure recorded in the state row)"


# SQLSTATE classes no write meets however it races, because the SQL it ran (a trigger's, a function's) is wrong:
# a cardinality violation (one statement touching a row twice), a syntax error or undefined object, an internal
# error. A fault or an assumption breaker may fail; not like this.
DEFECTS = ("21", "42", "XX")


def count_failure(failures: dict[str, dict], name: str, index: int, at: int, error: str | None) -> None:
    """Per operation kind: how many failed, and the first of them (the shape verdicts read); of those, how many
    failed for a defect (DEFECTS), and the first."""
    entry = failures.setdefault(name, {"count": 0, "first": {"i": index, "at": at, "error": error}})
    entry["count"] += 1
    if error and error[:2] in DEFECTS and error[5:6] == ":":
        entry["defects"] = entry.get("defects", 0) + 1
        entry.setdefault("first_defect", {"i": index, "at": at, "error": error})


_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE


def _line(obj: dict) -> bytes:
    return orjson.dumps(obj, option=_OPTIONS)


def _ok_line(index: int) -> bytes:
    """`_line({"t": "ok", "i": index})`, without building the dict: most lines of a history are these."""
    return b'{"i":%d,"t":"ok"}\n' % index


class HistoryWriter:
    """Lines gather in a buffer and are hashed and written a block at a time: the client writes two per
    operation, and hashing and writing each line on its own took a quarter of `invoke`'s time. `flush` (the
    checker reads the file mid-run), `sha256` and `close` drain it first. The sha256 is the history's content:
    its lines without their chain links (bench/drive/chain.py), so one run has one digest whether or not its
    lines are chained."""

    def __init__(self, path: Path, header: dict):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("wb")
        self._hash = hashlib.sha256()
        self._buf = bytearray()
        self._plain = bytearray()  # the same lines without their links: what the sha256 is of
        self._chain = Chain()
        self._next = 0
        self.fields = fields_with(columns_of(header))  # per kind, the fields its invokes record
        self.failures: dict[str, dict] = {}  # per operation kind: how many failed, and the first of them
        self._write({"t": "header", "format": FORMAT, **header})

    def _write(self, obj: dict) -> None:
        self._append(_line(obj))

    def _append(self, data: bytes) -> None:
        self._plain += data
        self._buf += self._chain.link(data)
        if len(self._buf) >= BLOCK:
            self._drain()

    def _drain(self) -> None:
        if self._buf:
            self._hash.update(self._plain)
            self._file.write(self._buf)
            self._buf.clear()
            self._plain.clear()

    def invoke(self, op: Op) -> int:
        # One per operation, on the client's hot path: `_line` and `_append`, inlined.
        op.index = i = self._next
        self._next = i + 1
        value, fields = op.value, self.fields[op.name]
        if len(value) != len(fields):
            value = {k: value.get(k) for k in fields}
        plain = orjson.dumps({"t": "invoke", "i": i, "f": op.name, "at": op.at, "p": op.session, "v": value},
                             option=_OPTIONS)
        self._plain += plain
        buf = self._buf
        buf += self._chain.link(plain)
        if len(buf) >= BLOCK:
            self._drain()
        return i

    def complete(self, op: Op, outcome: str, result: int | None = None, error: str | None = None,
                 tally: bool = True) -> None:
        """`tally=False`: a failure the scenario itself caused (a write rolled back with its transaction)."""
        assert outcome in OUTCOMES
        if outcome == "fail" and tally:
            self.tally(op, error)
        if outcome == "ok" and result is None:
            self._append(_ok_line(op.index))
            return
        event = {"t": outcome, "i": op.index}
        if result is not None:
            event["r"] = result
        if error is not None:
            event["err"] = error
        if outcome == "fail" and not tally:
            event["cause"] = "scenario"  # a re-judge (`rollup-bench check`) must not count it either
        self._write(event)

    def tally(self, op: Op, error: str | None) -> None:
        """Count a failed operation for the verdict (a tick that reported its failure by returning -1 too)."""
        count_failure(self.failures, op.name, op.index, op.at, error)

    def all_ok(self, ops: list[Op]) -> None:
        """`complete(op, "ok")` for each of `ops`, in order."""
        link, lines = self._chain.link, [_ok_line(op.index) for op in ops]
        self._plain += b"".join(lines)
        self._buf += b"".join([link(line) for line in lines])
        if len(self._buf) >= BLOCK:
            self._drain()

    def flush(self) -> None:
        self._drain()
        self._file.flush()

    @property
    def sha256(self) -> str:
        self._drain()
        return self._hash.hexdigest()

    def close(self) -> None:
        self._drain()
        self._file.close()


def _value_dtype(name: str) -> pl.DataType:
    if name in INT_FIELDS:
        return pl.Int64
    if name in BOOL_FIELDS:
        return pl.Boolean
    return pl.String


def schema(columns: tuple[Column, ...] = ()) -> pl.Schema:
    """The events' schema, with a target's optional raw usage columns among the values (numerics as text)."""
    extra = {c.name: pl.Int64 if c.type == "bigint" else pl.String for c in columns}
    return pl.Schema({
        "t": pl.String, "i": pl.Int64, "f": pl.String, "at": pl.Int64, "p": pl.Int64,
        "v": pl.Struct({**{name: _value_dtype(name) for name in FIELDS}, **extra}), "r": pl.Int64, "err": pl.String,
        "cause": pl.String,
    })


SCHEMA = schema()


def columns_of(header: dict) -> tuple[Column, ...]:
    """The optional raw usage columns a history's header names."""
    return tuple(Column.from_header(name, e) for name, e in header.get("columns", {}).items())


def fields_with(columns: tuple[Column, ...]) -> dict[str, tuple[str, ...]]:
    """Each kind's fields, usage reports' with the optional columns after their own."""
    if not columns:
        return CATALOG
    return {**CATALOG, "usage": (*CATALOG["usage"], *(c.name for c in columns))}


@dataclass
class History:
    header: dict
    ops: pl.DataFrame  # one row per invoked operation: i, f, at, p, every value field, outcome, r, err
    sha256: str
    note: str | None = None  # what a reader should know: a history from before the chain cannot be verified

    @classmethod
    def load(cls, path: Path, check: bool = True) -> History:
        """`check=False`: the chain unchecked (the runner reading its own file mid-run)."""
        data = Path(path).read_bytes()
        first, _, rest = data.partition(b"\n")
        try:
            header = json.loads(first)
        except ValueError:
            header = None
        if not isinstance(header, dict) or header.get("t") != "header" or header.get("format") != FORMAT:
            raise ValueError(f"{path}: not a rollup-bench history (format {FORMAT})")
        note = verify(data, path) if check else None
        header.pop("~", None)
        events_schema = schema(columns_of(header))
        events = (pl.read_ndjson(io.BytesIO(rest), schema=events_schema) if rest.strip()
                  else pl.DataFrame(schema=events_schema))
        return cls(header, _ops_frame(events), hashlib.sha256(unlinked(data)).hexdigest(), note)

    @property
    def columns(self) -> tuple[Column, ...]:
        return columns_of(self.header)

    def replay(self, only: set[int] | None = None) -> Iterator[Op]:
        """The invoked operations, in order, as the client would apply them again — up to the last one that
        completed: a run cut short (its server died) leaves the rest invoked without an outcome. `only`: of the
        writes, just these (a trimmed replay); entities, ticks, faults and checks all stay."""
        done = self.ops.filter(pl.col("outcome").is_not_null())
        last = done.get_column("i").max() if done.height else -1
        ops = self.ops.filter(pl.col("i") <= last)
        if only is not None:
            ops = ops.filter(~pl.col("f").is_in(list(WRITES)) | pl.col("i").is_in(list(only)))
        fields = fields_with(self.columns)
        for row in ops.iter_rows(named=True):
            value = {k: row[k] for k in fields[row["f"]]}
            yield Op(row["f"], row["at"], row["p"], value)


def _ops_frame(events: pl.DataFrame) -> pl.DataFrame:
    # `n`: the line an operation was invoked on; `done`: the line of its outcome. A write in a held transaction
    # completes as info, then ok or fail when the transaction ends: the last outcome counts, from its line on.
    events = events.with_row_index("line").with_columns(pl.col("line").cast(pl.Int64))
    invokes = events.filter(pl.col("t") == "invoke").select("i", "f", "at", "p", "v", n="line").unnest("v")
    done = events.filter(pl.col("t") != "invoke")
    outcomes = (done.select("i", pl.col("t").alias("outcome"), "r", "err", "cause", done="line")
                .unique("i", keep="last", maintain_order=True)
                .join(done.filter(pl.col("t") == "info").group_by("i").agg(pending=pl.col("line").min()), on="i",
                      how="left"))
    return _starts(invokes.join(outcomes, on="i", how="left").sort("i"))


def as_seen(ops: pl.DataFrame, before: int) -> pl.DataFrame:
    """The history as it stood when operation `before` was invoked — what a check there saw: the operations
    invoked before it, each with the outcome recorded by then (info while its transaction was open; none yet
    for work still running)."""
    n = ops.filter(pl.col("i") == before).get_column("n").item()
    outcome = (pl.when(pl.col("done") < n).then(pl.col("outcome"))
               .when(pl.col("pending") < n).then(pl.lit("info")).otherwise(None))
    known = pl.col("done") < n
    return ops.filter(pl.col("i") < before).with_columns(
        outcome=outcome, r=pl.when(known).then(pl.col("r")), err=pl.when(known).then(pl.col("err")),
        cause=pl.when(known).then(pl.col("cause")), done=pl.when(known).then(pl.col("done")))


def _starts(ops: pl.DataFrame) -> pl.DataFrame:
    """`start`: when the transaction an operation ran in began — what PostgreSQL's now() says inside it. An
    application write on a session holding a transaction open (from its `begin`, or the `lock` that opened it,
    to its `commit`, `rollback` or a server `restart`) ran in that one; every other operation in its own,
    started at its own time."""
    control = ops.filter(pl.col("f").is_in(TRANSACTIONS))
    if control.is_empty():
        return ops.with_columns(start=pl.col("at"))
    opened: dict[int, tuple[int, int]] = {}
    spans = []  # (session, first index, end index, start)
    for i, f, at, p in control.select("i", "f", "at", "p").iter_rows():  # a few per script: a loop is fine
        if f in ("begin", "lock"):
            opened.setdefault(p, (i, at))
        elif f == "restart":
            spans += [(q, j, i, a) for q, (j, a) in opened.items()]
            opened.clear()
        elif p in opened:
            j, a = opened.pop(p)
            spans.append((p, j, i, a))
    spans += [(q, j, 2**62, a) for q, (j, a) in opened.items()]
    frame = pl.DataFrame(spans, schema={"p": pl.Int64, "_from": pl.Int64, "_to": pl.Int64, "_txn": pl.Int64},
                         orient="row").sort("_from")
    inside = (pl.col("i") < pl.col("_to")) & pl.col("f").is_in(WORKLOAD)
    return (ops.join_asof(frame, left_on="i", right_on="_from", by="p", check_sortedness=False)  # both by index
            .with_columns(start=pl.when(inside).then(pl.col("_txn")).otherwise(pl.col("at")))
            .drop("_from", "_to", "_txn"))


def frame_from_ops(ops: list[Op], outcomes: dict[int, str] | None = None,
                   results: dict[int, int] | None = None, columns: tuple[Column, ...] = ()) -> pl.DataFrame:
    """An in-memory history, same columns as `History.ops`: every operation ok unless `outcomes` says not."""
    buf = io.BytesIO()
    fields, events_schema = fields_with(columns), schema(columns)
    for op in ops:
        value = {k: op.value.get(k) for k in fields[op.name]}
        buf.write(_line({"t": "invoke", "i": op.index, "f": op.name, "at": op.at, "p": op.session, "v": value}))
        done = {"t": (outcomes or {}).get(op.index, "ok"), "i": op.index}
        if results and op.index in results:
            done["r"] = results[op.index]
        buf.write(_line(done))
    buf.seek(0)
    return _ops_frame(pl.read_ndjson(buf, schema=events_schema) if buf.getbuffer().nbytes
                      else pl.DataFrame(schema=events_schema))
