"""Every statement the application model sends fits the real schema: each is planned (EXPLAIN, nothing runs)
against tables built from pipeline.md §1 alone (tests/spec_schema.sql), so a column the real tables lack is an
error here, whatever the bench's own base schema (000) happens to hold."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import psycopg
import pytest

from bench.capacity.workload import _DELETE, _REASSIGN, _TASKS, _UPSERT
from bench.capacity.writers import STATEMENTS as WRITER_STATEMENTS
from bench.drive.client import SINGLE
from rollup.database import Database

from .conftest import START

SCHEMA = (Path(__file__).parent / "spec_schema.sql").read_text()
APPLICATION = {**{f"client {k}": v for k, v in SINGLE.items()},
               **{f"capacity writer {k}": v for k, v in WRITER_STATEMENTS.items()},
               "capacity upsert": _UPSERT, "capacity tasks": _TASKS, "capacity delete": _DELETE,
               "capacity reassign": _REASSIGN}


@pytest.fixture(scope="module")
def spec_db(server):
    db = Database(server, START)
    with db.connect() as conn:
        conn.execute(SCHEMA)
    yield db
    db.drop()


@pytest.mark.parametrize("name", sorted(APPLICATION))
def test_statement_fits_the_specified_schema(spec_db, name):
    statement = APPLICATION[name]
    with spec_db.connect() as conn:
        cur = psycopg.ClientCursor(conn)
        if "%(" in statement:
            params = defaultdict(lambda: None)
        else:
            params = [None] * statement.count("%s")
        cur.execute("EXPLAIN " + statement, params)  # an unknown column fails here (42703)


def test_the_check_fires_on_a_column_the_real_table_lacks(spec_db):
    with spec_db.connect() as conn, pytest.raises(psycopg.errors.UndefinedColumn):
        psycopg.ClientCursor(conn).execute(
            "EXPLAIN UPDATE agent_task_queue SET runtime_id = %(r)s, updated_at = now() WHERE id = %(id)s",
            defaultdict(lambda: None))

