"""How a migrated template follows a run's start (rollup.migrations.Templates): a chain is applied once per
migration prefix, however many simulated start times its runs begin at.

A clone costs a file copy, where migrating costs every file's DDL (and the hooks' work): on a chain of 430
migrations, seconds a run. Runs start at different simulated times, though, and the migration reads the clock
(the pre-103 hook stamps the watermark at now() − 5 min, schema_migrations records applied_at). So the first
start's template is kept, and the second start asks for a *probe*: the same prefix migrated again at a time
PROBE away, an odd span that crosses days, months and a year, so that no calendar rounding of now() can come out
equal by chance. The two are compared: the schema (every relation, column, default, constraint, index, function,
view, trigger and comment, as PostgreSQL prints them) must be the same, and every table's rows the same but for
timestamps that differ by exactly PROBE — values that move with the clock — and transaction ids or snapshots
(the cluster's counter, which no clone reproduces). A clone for any other start is then the first template with
those cells moved by the starts' difference. Anything else that differs (a date, a
month's partition, a count) makes the prefix's templates per start, each migrated at its own time, as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from psycopg import sql

from rollup.clock import CLOCK_SCHEMA
from rollup.database import Database

PROBE = timedelta(days=400, hours=13, minutes=17, seconds=11, microseconds=123457)

# The schema as PostgreSQL prints it, one text per object, names not oids: equal for equal chains.
SCHEMA = """
SELECT format('%s %s %s', c.relkind, c.oid::regclass, obj_description(c.oid, 'pg_class'))
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%%'
UNION ALL
SELECT format('col %s.%s %s %s %s', a.attrelid::regclass, a.attname, format_type(a.atttypid, a.atttypmod),
              a.attnotnull, pg_get_expr(d.adbin, d.adrelid))
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attnum > 0 AND NOT a.attisdropped
   AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%%'
UNION ALL
SELECT format('con %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(k.oid))
  FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
UNION ALL
SELECT format('idx %s', pg_get_indexdef(i.indexrelid)) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg_toast%%'
UNION ALL
SELECT format('fn %s %s %s', p.oid::regprocedure, p.prosrc, obj_description(p.oid, 'pg_proc'))
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
UNION ALL
SELECT format('view %s %s', c.oid::regclass, pg_get_viewdef(c.oid)) FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('v', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
UNION ALL
SELECT format('trg %s', pg_get_triggerdef(t.oid)) FROM pg_trigger t WHERE NOT t.tgisinternal
UNION ALL
SELECT format('ext %s %s', extname, extversion) FROM pg_extension
ORDER BY 1
"""
TABLES = f"""
SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema', '{CLOCK_SCHEMA}')
   AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1
"""

# xid, xid8, txid_snapshot, pg_snapshot: the cluster's transaction counter, not the clock; a clone never reproduces
# it (the template's is older than any fresh migration's), so two migrations may differ there.
XID_TYPES = frozenset((28, 5069, 2970, 5038))
Cells = dict[tuple[str, str], list[str]]  # (table, column) -> the ctids of the rows whose value moves with the clock


@dataclass
class Base:
    """A prefix's first template: migrated at `start`; `moves` once probed (None before), or `per_start`."""

    name: str
    start: datetime
    moves: Cells | None = None
    per_start: bool = False


def drop(server, name: str) -> None:
    with psycopg.connect(server.admin_conninfo, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def moved(first: str, second: str, span: timedelta) -> Cells | None:
    """The cells of `second` (migrated `span` after `first`) whose timestamps are `first`'s plus `span`, when
    nothing else differs between the two databases; None when something does."""
    utc = "-c TimeZone=UTC"
    with psycopg.connect(first, options=utc) as a, psycopg.connect(second, options=utc) as b:
        if a.execute(SCHEMA).fetchall() != b.execute(SCHEMA).fetchall():
            return None
        cells: Cells = {}
        for (table,) in a.execute(TABLES).fetchall():
            query = sql.SQL("SELECT ctid::text, * FROM {} ORDER BY ctid").format(sql.SQL(table))  # regclass: quoted
            ca, cb = a.execute(query), b.cursor()
            cb.execute(query)
            names = [d.name for d in ca.description][1:]
            xids = [d.type_code in XID_TYPES for d in ca.description][1:]
            rows_a, rows_b = ca.fetchall(), cb.fetchall()
            if len(rows_a) != len(rows_b):
                return None
            for ra, rb in zip(rows_a, rows_b):
                if ra[0] != rb[0]:
                    return None
                for name, xid, va, vb in zip(names, xids, ra[1:], rb[1:]):
                    if va == vb or xid:
                        continue
                    if not (isinstance(va, datetime) and isinstance(vb, datetime) and vb - va == span):
                        return None
                    cells.setdefault((table, name), []).append(ra[0])
    return cells


def move(db: Database, cells: Cells, by: timedelta) -> None:
    """Move the cells that follow the clock by `by`, triggers off (the rows are the template's, not writes)."""
    if not cells or not by:
        return
    with db.connect(autocommit=False) as conn:
        conn.execute("SET LOCAL session_replication_role = replica")
        for (table, column), ctids in cells.items():
            conn.execute(sql.SQL("UPDATE {} SET {} = {} + %s WHERE ctid = ANY(%s::tid[])").format(
                sql.SQL(table), sql.Identifier(column), sql.Identifier(column)), (by, ctids))
        conn.commit()
