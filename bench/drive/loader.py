"""Bulk loading of a batch of task rows and new usage rows.

A small batch (a run's ticks cut one every 5 simulated minutes) is kept in memory and written at the end in one
transaction: one statement per table over the rows as arrays, pipelined, so one round trip.

A big batch is streamed by COPY: rows reach PostgreSQL as the client produces them, and the server stores them
while Python prepares the next operations. What cannot overlap that way is the end of a COPY: the foreign-key
checks (AFTER triggers) run when the statement finishes, with the caller waiting. So the batch is cut into chunks
of CHECKPOINT rows, each chunk a transaction for its tasks and one for its usage rows, on a pair of connections;
chunks alternate between two pairs. While the main thread streams chunk k+1, a worker thread commits chunk k: its
tasks first, then its usage rows, whose foreign-key checks then see those tasks (READ COMMITTED takes a new
snapshot for them). A usage row never refers to a task of a later chunk: the client releases a row only after
its task. psycopg releases the GIL while it waits on the server, so the checks run on the second core.

Chunks commit one by one, so a failure can leave the first ones committed: `tasks_done` and `usage_done` say
how many, and the client applies the rest of the batch one operation at a time.

A target's optional raw usage columns (rollup.measures.Column) follow a usage row's own, in every statement, and
only for a target that declares them: for any other the statements are the module's constants.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

import orjson
import psycopg

from rollup.clock import from_us, start_at
from rollup.database import Database
from rollup.measures import Column

CHECKPOINT = 16384  # rows per chunk
SMALL = 1024  # rows a batch keeps in memory before it starts streaming
TASK_COLUMNS = ("id", "agent_id", "runtime_id", "issue_id", "status")
USAGE_COLUMNS = ("task_id", "provider", "model", "input_tokens", "output_tokens", "cache_read_tokens",
                 "cache_write_tokens", "created_at", "updated_at")


class Stream:
    """A transaction on one connection, started at the batch's simulated time, and a COPY into its table left
    open for rows as they come. After `end_copy` the next row opens a new COPY in the same transaction."""

    def __init__(self, conn: psycopg.Connection, table: str, columns: tuple[str, ...], at: int):
        self.conn = conn
        self.sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        self.at = at
        self._tx = self._copy = self._writer = None

    def begin(self) -> None:
        if self._tx is None:
            self._tx = self.conn.transaction()
            self._tx.__enter__()
            start_at(self.conn, from_us(self.at))

    def write(self, row) -> None:
        if self._copy is None:
            self.begin()
            self._copy = self.conn.cursor().copy(self.sql)
            self._writer = self._copy.__enter__()
        self._writer.write_row(row)

    @property
    def idle(self) -> bool:
        return self._tx is None

    def copy_rows(self, sql: str, rows: list) -> None:
        """Another COPY, of `rows`, in this stream's transaction."""
        self.end_copy()
        if rows:
            self.begin()
            with self.conn.cursor().copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)

    def end_copy(self) -> None:
        """Finish the COPY: the server reports bad rows here, and runs the rows' AFTER triggers (foreign keys)."""
        if self._copy is not None:
            copy, self._copy = self._copy, None
            copy.__exit__(None, None, None)

    def commit(self) -> None:
        self.end_copy()
        if self._tx is not None:
            tx, self._tx = self._tx, None
            tx.__exit__(None, None, None)

    def abort(self, exc: BaseException) -> None:
        """Cancel an unfinished COPY and roll the transaction back."""
        if self._copy is not None:
            copy, self._copy = self._copy, None
            try:
                copy.__exit__(type(exc), exc, None)  # tells the server the COPY failed
            except psycopg.Error:
                pass  # the server had failed it already
        if self._tx is not None:
            tx, self._tx = self._tx, None
            tx.__exit__(type(exc), exc, None)


class Chunk:
    def __init__(self, conns: tuple[psycopg.Connection, psycopg.Connection], at: int,
                 usage_columns: tuple[str, ...] = USAGE_COLUMNS):
        self.tasks = Stream(conns[0], "agent_task_queue", TASK_COLUMNS, at)
        self.usage = Stream(conns[1], "task_usage", usage_columns, at)
        self.rows = 0

    def abort(self, exc: BaseException) -> None:
        self.tasks.abort(exc)
        self.usage.abort(exc)


class Loader:
    """One batch at a time: `start`, then `task` and `usage_row` as rows come, then `commit` (or `abort`).
    `chunk` numbers the chunk rows go to now. After a failure `error` is set and rows are dropped."""

    def __init__(self, db: Database, columns: tuple[Column, ...] = ()):
        self.db = db
        self.usage_columns, self.insert_usage, self.upsert = usage_statements(columns)
        self._pairs: list[tuple[psycopg.Connection, psycopg.Connection]] = []
        self._pool: ThreadPoolExecutor | None = None
        self._job: Future | None = None  # the commit of the previous chunk
        self._current: Chunk | None = None
        self.start(0)

    def start(self, at: int) -> None:
        self.at, self.chunk, self.tasks_done, self.usage_done, self.error = at, 0, 0, 0, None
        self._current = None
        self._tasks: list | None = []  # rows kept while the batch is small; None once it streams
        self._usage: list = []

    def _pair(self, n: int) -> tuple[psycopg.Connection, psycopg.Connection]:
        while len(self._pairs) <= n % 2:  # connected on first use: most scripted cases never need the second
            self._pairs.append((self.db.connect(role="loader"), self.db.connect(role="loader")))
        return self._pairs[n % 2]

    def task(self, row) -> None:
        if self._tasks is not None:
            self._tasks.append(row)
            self._grow()
        elif self.error is None:
            self._chunk().tasks.write(row)
            self._count()

    def usage_row(self, row) -> None:
        if self._tasks is not None:
            self._usage.append(row)
            self._grow()
        elif self.error is None:
            self._chunk().usage.write(row)
            self._count()

    def _grow(self) -> None:
        """Past SMALL rows the batch starts streaming: the rows kept so far go first."""
        if len(self._tasks) + len(self._usage) >= SMALL:
            chunk, tasks, usage, self._tasks, self._usage = self._chunk(), self._tasks, self._usage, None, []
            for row in tasks:
                chunk.tasks.write(row)
            for row in usage:
                chunk.usage.write(row)
            chunk.rows = len(tasks) + len(usage)

    def _chunk(self) -> Chunk:
        if self._current is None:
            self._current = Chunk(self._pair(self.chunk), self.at, self.usage_columns)
        return self._current

    def _count(self) -> None:
        self._current.rows += 1
        if self._current.rows >= CHECKPOINT:
            self._wait()  # the previous chunk's commit: its connections are the next chunk's
            if self.error is not None:
                self._current.abort(self.error)
                self._current = None
                return
            if self._pool is None:
                self._pool = ThreadPoolExecutor(1, thread_name_prefix="rollup-bench-commit")
            chunk, n = self._current, self.chunk
            self._job = self._pool.submit(self._commit, chunk, n)
            self._current, self.chunk = None, n + 1

    def _commit(self, chunk: Chunk, n: int) -> None:  # on the worker thread for all chunks but the last
        try:
            chunk.tasks.commit()
            self.tasks_done = n + 1
            chunk.usage.commit()
            self.usage_done = n + 1
        except psycopg.Error as exc:
            chunk.abort(exc)
            raise

    def _wait(self) -> None:
        job, self._job = self._job, None
        if job is not None:
            try:
                job.result()
            except psycopg.Error as exc:
                self.error = exc

    def commit(self, rows: list, upserts: list) -> None:
        """Commit the batch's last chunk with the last usage `rows`, and `upserts` (reports of rows already
        written) applied with the application's overwrite. Raises the batch's first error; `abort` then cleans
        up. A last chunk that streamed no usage row yet is one transaction: fewer round trips for the small
        batches a run's ticks cut."""
        if self._tasks is not None:
            self._commit_small(self._tasks, self._usage + rows, upserts)
            return
        self._wait()
        if self.error is not None:
            raise self.error
        chunk, n = self._chunk(), self.chunk
        side = chunk.tasks if chunk.usage.idle else chunk.usage
        if side is chunk.usage:
            chunk.tasks.commit()
            self.tasks_done = n + 1
        side.copy_rows(chunk.usage.sql, rows)
        if upserts:
            side.begin()
            _insert(side.conn, self.upsert, upserts)  # the application's overwrite
        side.commit()
        self.tasks_done = self.usage_done = n + 1
        self._current = None

    def _commit_small(self, tasks: list, usage: list, upserts: list) -> None:
        """A batch that never grew past SMALL: one transaction, its statements pipelined (one round trip)."""
        conn = self._pair(0)[0]
        with conn.pipeline(), conn.transaction():
            start_at(conn, from_us(self.at))
            for sql, rows in ((INSERT_TASKS, tasks), (self.insert_usage, usage), (self.upsert, upserts)):
                if rows:
                    _insert(conn, sql, rows)
        self.tasks_done = self.usage_done = 1

    def abort(self, exc: BaseException) -> None:
        self._tasks, self._usage = None, []
        self._wait()
        if self._current is not None:
            self._current.abort(exc)
            self._current = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        for pair in self._pairs:
            for conn in pair:
                conn.close()


# Rows as one JSON array of rows (orjson writes it at C speed, timestamps included; psycopg's array dumping is
# Python, per element): one statement per table, prepared once, whatever the number of rows.
def _from_json(table: str, columns: tuple[str, ...], types: tuple[str, ...]) -> str:
    values = ", ".join(f"(r->>{i})::{t}" for i, t in enumerate(types))
    return f"INSERT INTO {table} ({', '.join(columns)}) SELECT {values} FROM jsonb_array_elements(%s::jsonb) AS r"


def _insert(conn: psycopg.Connection, sql: str, rows: list) -> None:
    conn.execute(sql, (orjson.dumps(rows).decode(),), prepare=True)


INSERT_TASKS = _from_json("agent_task_queue", TASK_COLUMNS, ("uuid", "uuid", "uuid", "uuid", "text"))
USAGE_TYPES = ("uuid", "text", "text", "bigint", "bigint", "bigint", "bigint", "timestamptz", "timestamptz")
INSERT_USAGE = _from_json("task_usage", USAGE_COLUMNS, USAGE_TYPES)
_UPSERT_SET = (" ON CONFLICT (task_id, provider, model) DO UPDATE SET input_tokens = EXCLUDED.input_tokens,"
               " output_tokens = EXCLUDED.output_tokens, cache_read_tokens = EXCLUDED.cache_read_tokens,"
               " cache_write_tokens = EXCLUDED.cache_write_tokens, updated_at = EXCLUDED.updated_at")
UPSERT = f"{INSERT_USAGE}{_UPSERT_SET}"


def usage_statements(columns: tuple[Column, ...]) -> tuple[tuple[str, ...], str, str]:
    """The usage rows' COPY columns, insert and upsert (the application's overwrite, of the optional columns too)."""
    if not columns:
        return USAGE_COLUMNS, INSERT_USAGE, UPSERT
    names = (*USAGE_COLUMNS, *(c.name for c in columns))
    insert = _from_json("task_usage", names, (*USAGE_TYPES, *(c.sql_type for c in columns)))
    return names, insert, insert + _UPSERT_SET + "".join(f", {c.name} = EXCLUDED.{c.name}" for c in columns)
