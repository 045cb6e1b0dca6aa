"""The client: applies operations to a target at their simulated times and records every outcome.

Each operation is its own transaction, started at the operation's simulated time on its session's connection.
Runs of plain inserts and usage reports between other operations are applied in bulk — COPY for rows whose key
is new, a staged upsert for re-reports — which gives the same rows as one transaction per report (each row's
updated_at is its report's start time) at COPY speed. If a bulk batch fails, it is applied again one operation
at a time, so every operation still gets its own outcome.
"""

from __future__ import annotations

import psycopg

from bench.app import UPSERT_USAGE
from bench.history import HistoryWriter
from bench.ops import BULK, Op
from rollup.clock import from_us, start_at
from rollup.database import Database

SINGLE: dict[str, str] = {
    "workspace": "INSERT INTO workspace (id, name, slug) VALUES (%(id)s, %(name)s, %(slug)s)",
    "user": 'INSERT INTO "user" (id, name, email, timezone) VALUES (%(id)s, %(name)s, %(email)s, %(timezone)s)',
    "runtime": "INSERT INTO agent_runtime (id, workspace_id, name, runtime_mode, provider, daemon_id)"
               " VALUES (%(id)s, %(workspace_id)s, %(name)s, 'local', %(provider)s, %(daemon_id)s)",
    "agent": "INSERT INTO agent (id, workspace_id, name, runtime_mode, runtime_id)"
             " VALUES (%(id)s, %(workspace_id)s, %(name)s, 'local', %(runtime_id)s)",
    "project": "INSERT INTO project (id, workspace_id, title) VALUES (%(id)s, %(workspace_id)s, %(title)s)",
    "issue": "INSERT INTO issue (id, workspace_id, project_id, number, title, creator_type, creator_id)"
             " VALUES (%(id)s, %(workspace_id)s, %(project_id)s, %(number)s, %(title)s, 'member', %(creator_id)s)",
    "task": "INSERT INTO agent_task_queue (id, agent_id, runtime_id, issue_id, status)"
            " VALUES (%(id)s, %(agent_id)s, %(runtime_id)s, %(issue_id)s, 'completed')",
    "usage": UPSERT_USAGE,
    "delete_usage": "DELETE FROM task_usage WHERE task_id = %(task_id)s AND provider = %(provider)s AND model = %(model)s",
    "delete_task": "DELETE FROM agent_task_queue WHERE id = %(id)s",
    "delete_issue": "DELETE FROM issue WHERE id = %(id)s",
    "delete_agent": "DELETE FROM agent WHERE id = %(id)s",
    "delete_runtime": "DELETE FROM agent_runtime WHERE id = %(id)s",
    "delete_project": "DELETE FROM project WHERE id = %(id)s",
    "delete_workspace": "DELETE FROM workspace WHERE id = %(id)s",
    "reassign_runtime": "UPDATE agent_task_queue SET runtime_id = %(runtime_id)s, updated_at = now() WHERE id = %(id)s",
    "link_issue": "UPDATE agent_task_queue SET issue_id = %(issue_id)s, updated_at = now() WHERE id = %(id)s",
    "change_issue_project": "UPDATE issue SET project_id = %(project_id)s, updated_at = now() WHERE id = %(id)s",
    # Assumption breakers: writes the application never makes.
    "change_agent": "UPDATE agent_task_queue SET agent_id = %(agent_id)s WHERE id = %(id)s",
    "change_usage_key": "UPDATE task_usage SET task_id = coalesce(%(new_task_id)s::uuid, task_id),"
                        " provider = coalesce(%(new_provider)s, provider), model = coalesce(%(new_model)s, model),"
                        " created_at = coalesce(%(new_created_at)s, created_at)"
                        " WHERE task_id = %(task_id)s AND provider = %(provider)s AND model = %(model)s",
    "update_no_bump": "UPDATE task_usage SET input_tokens = %(input)s, output_tokens = %(output)s,"
                      " cache_read_tokens = %(cache_read)s, cache_write_tokens = %(cache_write)s"
                      " WHERE task_id = %(task_id)s AND provider = %(provider)s AND model = %(model)s",
}
TIMES = ("created_at", "new_created_at")
USAGE_COLUMNS = ("task_id", "provider", "model", "input_tokens", "output_tokens", "cache_read_tokens",
                 "cache_write_tokens", "created_at", "updated_at")


class Batch:
    """Bulk operations gathered between other operations. Usage reports are shaped as the rows they write (a
    row keeps its first report's created_at; later reports overwrite its counters and updated_at); tasks are
    not kept: the client streams them to PostgreSQL as they arrive."""

    def __init__(self):
        self.ops: list[Op] = []
        self.rows: dict[tuple, list] = {}

    def add(self, op: Op) -> None:
        self.ops.append(op)
        if op.name != "usage":
            return
        v = op.value
        key = (v["task_id"], v["provider"].lower(), v["model"])
        row = self.rows.get(key)
        if row is None:
            created = from_us(v["created_at"] if v["created_at"] is not None else op.at)
            self.rows[key] = [*key, v["input"], v["output"], v["cache_read"], v["cache_write"], created, from_us(op.at)]
        else:
            row[3:7] = v["input"], v["output"], v["cache_read"], v["cache_write"]
            row[8] = from_us(op.at)


def params(op: Op) -> dict:
    p = dict(op.value)
    for k in TIMES:
        if p.get(k) is not None:
            p[k] = from_us(p[k])
    return p


def describe(exc: psycopg.Error) -> str:
    primary = exc.diag.message_primary or str(exc).strip().splitlines()[0]
    return f"{exc.sqlstate}: {primary}"


class Client:
    def __init__(self, db: Database, sessions: int, history: HistoryWriter,
                 held: dict[int, psycopg.Connection] | None = None):
        self.db = db
        self.history = history
        self.held = {} if held is None else held  # sessions whose transaction stays open (the nemesis's)
        self.conns = [db.connect() for _ in range(max(1, sessions))]
        self.pending = Batch()
        self.known_keys: set[tuple] = set()  # usage keys this client wrote and did not delete (a hint only)
        self._staged = False  # the staging table exists on the bulk connection
        self._tx = None  # the open bulk transaction, if any
        self._task_copy = None  # the COPY that tasks stream into while a batch is open
        self._task_rows = None
        self.applied = 0
        self.failed = 0

    def close(self) -> None:
        self.flush()
        for c in self.conns:
            c.close()

    def reconnect(self) -> None:
        """New pool connections, after a server restart broke the old ones."""
        self._tx = self._task_copy = None
        self._staged = False
        for c in self.conns:
            c.close()
        self.conns = [self.db.connect() for _ in self.conns]

    def submit(self, op: Op) -> None:
        self.history.invoke(op)
        if op.name in BULK and op.session not in self.held:
            self.pending.add(op)
            if op.name == "task":
                self._stream_task(op)
        else:
            self.flush()
            self._apply_one(op)

    def _begin(self, at: int) -> None:
        """Open the bulk transaction on the first connection, starting at simulated time `at`."""
        conn = self.conns[0]
        self._tx = conn.transaction()
        self._tx.__enter__()
        start_at(conn, from_us(at))

    def _stream_task(self, op: Op) -> None:
        """Send a task row now, into a COPY left open until the batch is flushed: PostgreSQL stores it while
        Python prepares the next operations (two cores at work instead of one)."""
        if self._task_copy is None:
            if self._tx is None:
                self._begin(op.at)
            self._task_copy = self.conns[0].cursor().copy(
                "COPY agent_task_queue (id, agent_id, runtime_id, issue_id, status) FROM STDIN")
            self._task_rows = self._task_copy.__enter__()
        v = op.value
        self._task_rows.write_row((v["id"], v["agent_id"], v["runtime_id"], v["issue_id"], "completed"))

    def flush(self) -> None:
        """Commit the pending bulk operations as one transaction; if that fails, apply them one at a time, so
        each still gets its own outcome."""
        if not self.pending.ops:
            return
        batch, self.pending = self.pending, Batch()
        fresh = [r for k, r in batch.rows.items() if k not in self.known_keys]
        again = [r for k, r in batch.rows.items() if k in self.known_keys]
        try:
            if self._task_copy is not None:
                copy, self._task_copy = self._task_copy, None
                copy.__exit__(None, None, None)
            if self._tx is None:
                self._begin(batch.ops[0].at)
            self._bulk(self.conns[0], fresh, again)
            tx, self._tx = self._tx, None
            tx.__exit__(None, None, None)
        except psycopg.Error as exc:
            if self._tx is not None:
                tx, self._tx = self._tx, None
                tx.__exit__(type(exc), exc, exc.__traceback__)  # roll back
            for op in batch.ops:
                self._apply_one(op)
            return
        self.known_keys.update(batch.rows)
        for op in batch.ops:
            self._done(op, "ok")

    def _bulk(self, conn: psycopg.Connection, fresh: list, again: list) -> None:
        if fresh:
            with conn.cursor().copy(f"COPY task_usage ({', '.join(USAGE_COLUMNS)}) FROM STDIN") as cp:
                for r in fresh:
                    cp.write_row(r)
        if again:  # re-reports of rows written earlier: the application's overwrite, staged
            if not self._staged:
                conn.execute("CREATE TEMP TABLE usage_stage (task_id uuid, provider text, model text,"
                             " input_tokens bigint, output_tokens bigint, cache_read_tokens bigint,"
                             " cache_write_tokens bigint, created_at timestamptz, updated_at timestamptz)"
                             " ON COMMIT DELETE ROWS")
                self._staged = True
            with conn.cursor().copy(f"COPY usage_stage ({', '.join(USAGE_COLUMNS)}) FROM STDIN") as cp:
                for r in again:
                    cp.write_row(r)
            conn.execute(
                f"INSERT INTO task_usage ({', '.join(USAGE_COLUMNS)}) SELECT {', '.join(USAGE_COLUMNS)} FROM usage_stage"
                " ON CONFLICT (task_id, provider, model) DO UPDATE SET input_tokens = EXCLUDED.input_tokens,"
                " output_tokens = EXCLUDED.output_tokens, cache_read_tokens = EXCLUDED.cache_read_tokens,"
                " cache_write_tokens = EXCLUDED.cache_write_tokens, updated_at = EXCLUDED.updated_at"
            )

    def _apply_one(self, op: Op) -> None:
        held = self.held.get(op.session)
        conn = held if held is not None else self.conns[op.session % len(self.conns)]
        try:
            with conn.transaction():  # inside a held transaction: a savepoint, its start time already set
                if held is None:
                    start_at(conn, from_us(op.at))
                rowcount = conn.execute(SINGLE[op.name], params(op)).rowcount
        except psycopg.Error as exc:
            self._done(op, "fail", error=describe(exc))
            return
        if op.name == "usage":
            v = op.value
            self.known_keys.add((v["task_id"], v["provider"].lower(), v["model"]))
        elif op.name == "delete_usage":
            self.known_keys.discard((op.value["task_id"], op.value["provider"], op.value["model"]))
        self._done(op, "ok", result=rowcount if op.name not in BULK else None)

    def _done(self, op: Op, outcome: str, result: int | None = None, error: str | None = None) -> None:
        if outcome == "ok":
            self.applied += 1
        else:
            self.failed += 1
        self.history.complete(op, outcome, result, error)
