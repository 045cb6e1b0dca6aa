"""The client: applies operations to a target at their simulated times and records every outcome.

The definition: each operation is its own transaction, started at the operation's simulated time on its
session's connection (`bulk=False` applies exactly that). Runs of task inserts and usage reports between other
operations go in bulk instead, through the loader (bench/drive/loader.py), and leave the same rows: a usage row keeps
its first report's created_at, and its last report's counters and start time (updated_at). If a bulk batch
fails, what it did not commit is applied again one operation at a time, so every operation still gets its own
outcome. tests/test_client.py holds the bulk path to the definition. A target's optional raw usage columns
(rollup.measures.Column) are written, both ways, only for a target that declares them (NULL when a report has none),
and only once the schema has them: a reproduction that stops part way up the chain writes the columns task_usage
has then, and a declared column joins the writes from the migration that adds it (`schema_changed`). A report
written before its column existed is recorded with the column NULL, as the row holds it.
"""

from __future__ import annotations

from collections import deque

import psycopg

from bench.drive.history import HistoryWriter
from bench.drive.loader import Loader
from bench.workload.app import upsert_usage_sql
from bench.workload.kinds import KINDS
from bench.workload.ops import BULK, Op
from rollup.clock import from_us, start_at
from rollup.database import Database
from rollup.measures import Column
from rollup.units import HOUR

SINGLE: dict[str, str] = {name: k.sql for name, k in KINDS.items() if k.sql}  # each operation's statement
TIMES = ("created_at", "new_created_at")
HOLD = HOUR  # how long a new usage row waits for its re-reports before it is streamed, in µs


class Batch:
    """Bulk operations gathered between other operations. Usage reports are shaped as the rows they leave (a row
    keeps its first report's created_at; later reports overwrite its counters and updated_at). A new row is held
    for an hour of simulated time, long enough for its re-reports to arrive, and then handed to the loader; a
    report of a row already handed over or written earlier is kept for the application's upsert at flush.
    `where` tells, per operation, where its effect went: the loader chunk of a task, the key of a held row, None
    for an upsert."""

    def __init__(self, extra: tuple[str, ...] = ()):
        self.extra = extra  # the optional raw columns' names: their values follow the row's times
        self.ops: list[Op] = []
        self.where: list[int | tuple | None] = []
        self.held: dict[tuple, tuple] = {}  # new rows not yet streamed
        self.order: deque[tuple[int, tuple]] = deque()  # (first report's time, key) of held rows
        self.released: dict[tuple, int] = {}  # keys streamed in this batch, and the chunk each went to
        self.rows: dict[tuple, tuple] = {}  # rows to upsert at flush

    def add_task(self, op: Op, chunk: int) -> None:
        self.ops.append(op)
        self.where.append(chunk)

    def add_usage(self, key: tuple, op: Op, written: bool) -> None:
        """`written`: the row exists already (an earlier batch wrote it)."""
        held = not written and key not in self.released
        pending = self.held if held else self.rows
        self.ops.append(op)
        self.where.append(key if held else None)
        v = op.value
        row = pending.get(key)
        if row is None:
            created = v["created_at"] if v["created_at"] is not None else op.at
            if held:
                self.order.append((op.at, key))
        else:
            created = row[7]
        # Times stay in µs until the row is sent. Rows are tuples, not lists: the garbage collector stops
        # tracking them, and a batch holds many.
        pending[key] = (*key, v["input"], v["output"], v["cache_read"], v["cache_write"], created, op.at)
        if self.extra:
            pending[key] += tuple(v.get(c) for c in self.extra)

    def due(self, before: int | None) -> list[tuple]:
        """The held rows first reported before `before` (all of them if None), in that order: their keys."""
        order = self.order
        if not order or (before is not None and order[0][0] >= before):
            return []
        out = []
        while order and (before is None or order[0][0] < before):
            out.append(order.popleft()[1])
        return out

    def release(self, key: tuple, chunk: int) -> tuple:
        """Stop holding the row of `key`: it goes to loader chunk `chunk`."""
        self.released[key] = chunk
        return sendable(self.held.pop(key))


def sendable(row: tuple) -> tuple:
    """A batch row as the loader takes it: its times as timestamps (any optional columns after them)."""
    return (*row[:7], from_us(row[7]), from_us(row[8]), *row[9:])


def usage_key(v: dict) -> tuple:
    return v["task_id"], v["provider"].lower(), v["model"]


def params(op: Op, extra: tuple[str, ...] = ()) -> dict:
    p = dict(op.value)
    if extra and op.name == "usage":
        p.update({c: p.get(c) for c in extra})
    for k in TIMES:
        if p.get(k) is not None:
            p[k] = from_us(p[k])
    return p


def describe(exc: psycopg.Error) -> str:
    primary = exc.diag.message_primary or str(exc).strip().splitlines()[0]
    return f"{exc.sqlstate}: {primary}"


class Client:
    def __init__(self, db: Database, sessions: int, history: HistoryWriter,
                 held: dict[int, psycopg.Connection] | None = None, bulk: bool = True,
                 columns: tuple[Column, ...] = ()):
        self.db = db
        self.declared = columns  # what the target declares; `columns`: those of them the schema has now
        self.columns, self.extra, self.absent = (), (), ()
        self.single = SINGLE
        self.history = history
        self.bulk = bulk  # False: every operation its own transaction, the definition the bulk path must meet
        self.held = {} if held is None else held  # sessions whose transaction stays open (the nemesis's)
        self.conns = [db.connect(role=f"session-{i}") for i in range(max(1, sessions))]
        self.loader = Loader(db)
        self.pending = Batch()
        self.schema_changed()
        self.known_keys: set[tuple] = set()  # usage keys this client wrote and did not delete (a hint only)
        self.uncommitted: dict[int, list[tuple[Op, int | None]]] = {}  # held sessions' writes, until their end
        self.applied = 0
        self.failed = 0

    def close(self, flush: bool = True) -> None:
        if flush:
            self.flush()
        self.loader.close()
        for c in self.conns:
            c.close()

    def schema_changed(self) -> None:
        """Write the declared columns task_usage has now (after a migration: nothing pending, the runner flushed)."""
        if not self.declared:
            return
        with self.db.connect() as conn:
            have = {r[0] for r in conn.execute("SELECT attname FROM pg_attribute WHERE attrelid = to_regclass("
                                               "'task_usage') AND attnum > 0 AND NOT attisdropped")}
        columns = tuple(c for c in self.declared if c.name in have)
        self.absent = tuple(c.name for c in self.declared if c.name not in have)
        if columns == self.columns:
            return
        self.flush()
        self.columns, self.extra = columns, tuple(c.name for c in columns)
        self.single = {**SINGLE, "usage": upsert_usage_sql(columns)} if columns else SINGLE
        self.pending = Batch(self.extra)
        self.loader.close()
        self.loader = Loader(self.db, columns)

    def reconnect(self) -> None:
        """New pool connections, after a server restart broke the old ones (nothing is pending: the runner
        flushes before it restarts the server)."""
        self.loader.close()
        for c in self.conns:
            c.close()
        self.conns = [self.db.connect(role=f"session-{i}") for i in range(len(self.conns))]
        self.loader = Loader(self.db, self.columns)

    def submit(self, op: Op) -> None:
        if self.absent and op.name == "usage":  # a column the schema lacks yet: the row gets no value for it
            for name in self.absent:
                if op.value.get(name) is not None:
                    op.value[name] = None
        self.history.invoke(op)
        if not self.bulk or op.name not in BULK or op.session in self.held:
            self.flush()
            self._apply_one(op)
            return
        batch, loader = self.pending, self.loader
        if not batch.ops:
            loader.start(op.at)  # the batch's transactions start at its first operation
        v = op.value
        if op.name == "task":
            batch.add_task(op, loader.chunk)
            loader.task((v["id"], v["agent_id"], v["runtime_id"], v["issue_id"], "completed"))
            return
        key = (v["task_id"], v["provider"].lower(), v["model"])  # usage_key, inlined: once per report
        batch.add_usage(key, op, key in self.known_keys)
        order = batch.order
        if order and order[0][0] < op.at - HOLD:
            for key in batch.due(op.at - HOLD):
                loader.usage_row(batch.release(key, loader.chunk))

    def flush(self) -> None:
        """Commit the pending bulk operations. If that fails, what is not committed is applied again one
        operation at a time, so each operation still gets its own outcome."""
        if not self.pending.ops:
            return
        batch, self.pending = self.pending, Batch(self.extra)
        loader = self.loader
        last = [batch.release(key, loader.chunk) for key in batch.due(None)]
        try:
            loader.commit(last, [sendable(r) for r in batch.rows.values()])
        except psycopg.Error as exc:
            loader.abort(exc)
            self._recover(batch)
            return
        self.known_keys.update(batch.released, batch.rows)
        self.applied += len(batch.ops)
        self.history.all_ok(batch.ops)

    def _recover(self, batch: Batch) -> None:
        """After a failed bulk batch: operations whose chunk committed are done; the others are applied again,
        one at a time and in order."""
        loader = self.loader
        for op, where in zip(batch.ops, batch.where):
            if isinstance(where, int):  # a task, and its chunk
                committed = where < loader.tasks_done
            elif where is None:  # an upsert: done at the very end, so never in a failed batch
                committed = False
            else:  # a held row's key: committed with the chunk it was released to
                chunk = batch.released.get(where)
                committed = chunk is not None and chunk < loader.usage_done
            if not committed:
                self._apply_one(op)
                continue
            if op.name == "usage":
                self.known_keys.add(where)
            self._done(op, "ok")

    def _apply_one(self, op: Op) -> None:
        held = self.held.get(op.session)
        conn = held if held is not None else self.conns[op.session % len(self.conns)]
        try:
            with conn.transaction():  # inside a held transaction: a savepoint, its start time already set
                if held is None:
                    start_at(conn, from_us(op.at))
                rowcount = conn.execute(self.single[op.name], params(op, self.extra)).rowcount
        except psycopg.Error as exc:
            # Waiting out lock_timeout on a lock another held transaction of the nemesis holds: the scenario's doing
            # (production would wait for its commit; a single-threaded run cannot commit while it waits).
            blocked = exc.sqlstate == "55P03" and any(s != op.session for s in self.held)
            self._done(op, "fail", error=describe(exc), tally=not blocked)
            return
        if op.name == "usage":
            self.known_keys.add(usage_key(op.value))
        elif op.name == "delete_usage":
            self.known_keys.discard((op.value["task_id"], op.value["provider"], op.value["model"]))
        result = rowcount if op.name not in BULK else None
        if held is not None:  # done, but not yet committed: pending (info) until its transaction ends
            self.history.complete(op, "info")
            self.uncommitted.setdefault(op.session, []).append((op, result))
            return
        self._done(op, "ok", result=result)

    def resolve(self, session: int, committed: bool, error: str | None = None) -> None:
        """A held transaction ended: its writes turn ok if it committed, else fail. A failed commit is the
        target's failure (counted for the verdict); a rollback, restart or abandoned session is the scenario's."""
        if not committed:
            self._lost(session, error or "rolled back", tally=error is not None)
            return
        for op, result in self.uncommitted.pop(session, []):
            self._done(op, "ok", result=result)

    def abandon(self, why: str) -> None:
        """Every held transaction is gone without a commit (a restart, or the end of the run)."""
        for session in list(self.uncommitted):
            self._lost(session, why, tally=False)

    def _lost(self, session: int, error: str, tally: bool) -> None:
        for op, _ in self.uncommitted.pop(session, []):
            self.failed += 1
            self.history.complete(op, "fail", error=error, tally=tally)

    def _done(self, op: Op, outcome: str, result: int | None = None, error: str | None = None,
              tally: bool = True) -> None:
        if outcome == "ok":
            self.applied += 1
        else:
            self.failed += 1
        self.history.complete(op, outcome, result, error, tally=tally)
