"""Templates (rollup/templates.py): a chain applied once per migration prefix, a clone moved to each run's start.

A clone for another start holds what a fresh migration at that start holds (the same schema, as the probe prints
it, and the same rows in every table); a chain whose migration leaves something else that depends on the clock
(a date, a relation named by the month) gets a template per start instead, and is still exact.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg import sql

from rollup.database import Database
from rollup.migrations import MIGRATIONS_ROOT, Runner, Target, Templates
from rollup.templates import SCHEMA, TABLES, XID_TYPES

STARTS = (datetime(2026, 3, 2, 9, 50, tzinfo=UTC), datetime(2026, 3, 1, 23, 50, tzinfo=UTC),
          datetime(2026, 2, 20, 9, 50, tzinfo=UTC))
ZERO = timedelta(0)


def counted(templates: Templates, monkeypatch) -> list:
    calls = []
    real = templates._migrate
    monkeypatch.setattr(templates, "_migrate", lambda *a: calls.append(a[1]) or real(*a))
    return calls


def contents(conninfo: str) -> tuple:
    """The schema and every table's rows, in order of value (transaction ids and snapshots left out)."""
    with psycopg.connect(conninfo, options="-c TimeZone=UTC") as conn:
        tables = {}
        for (table,) in conn.execute(TABLES).fetchall():
            cur = conn.execute(sql.SQL("SELECT * FROM {}").format(sql.SQL(table)))
            keep = [d.type_code not in XID_TYPES for d in cur.description]
            tables[table] = sorted(tuple(v for v, k in zip(row, keep) if k) for row in cur.fetchall())
        return conn.execute(SCHEMA).fetchall(), tables


def same_as_fresh(server, target: Target, clone: Database, start: datetime, to: str | None = None) -> bool:
    with Database(server, start) as fresh:
        Runner(fresh, target).up(to)
        return contents(fresh.conninfo) == contents(clone.conninfo)


@pytest.mark.parametrize("spec,to", [("hardened", None), ("reference", "102")])
def test_a_prefix_is_migrated_twice_whatever_the_starts_and_each_clone_is_exact(server, spec, to, monkeypatch):
    target, templates = Target.resolve(spec), Templates(server)
    calls = counted(templates, monkeypatch)
    try:
        for start in STARTS:
            with templates.fresh(target, start, to) as db:
                assert same_as_fresh(server, target, db, start, to), start
        assert len(calls) == 2 and calls[1] - calls[0] not in (ZERO, STARTS[1] - STARTS[0])  # first, and the probe
        assert not templates.bases[(target.dirs, to)].per_start
    finally:
        templates.drop()


@pytest.mark.parametrize("clocked", [
    "CREATE TABLE opened (day DATE NOT NULL);\nINSERT INTO opened VALUES (now()::date);\n",
    "DO $$ BEGIN EXECUTE format('CREATE TABLE events_%s (id int)', to_char(now(), 'YYYYMM')); END $$;\n",
], ids=["a date", "a relation named by the month"])
def test_a_chain_whose_state_does_not_move_with_the_clock_gets_a_template_per_start(server, tmp_path, clocked,
                                                                                    monkeypatch):
    (tmp_path / "999_clocked.up.sql").write_text(clocked)
    target, templates = Target.resolve(f"{MIGRATIONS_ROOT / 'reference'},{tmp_path}"), Templates(server)
    calls = counted(templates, monkeypatch)
    try:
        for start in STARTS:
            with templates.fresh(target, start) as db:
                assert same_as_fresh(server, target, db, start), start
        assert templates.bases[(target.dirs, None)].per_start
        assert len(calls) == 4  # the first start, the probe, then one each for the other two starts
    finally:
        templates.drop()
