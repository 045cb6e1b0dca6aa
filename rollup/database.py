"""A fresh, uniquely named database per run, with the simulated clock installed before anything else."""

from __future__ import annotations

import secrets
from datetime import datetime

import psycopg
from psycopg import sql

from rollup import clock
from rollup.servers import Server


class Database:
    """A database the bench created on `server`; dropped by `drop()` or at the end of a `with` block."""

    def __init__(self, server: Server, start: datetime, name: str | None = None, template: str | None = None):
        self.server = server
        self.name = name or f"rollup_bench_{secrets.token_hex(6)}"
        with psycopg.connect(server.admin_conninfo, autocommit=True) as admin:
            create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name))
            if template:
                create += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
            admin.execute(create)
        with self.connect() as conn:
            if template is None:
                clock.install(conn, self.name)
            else:
                clock.route(conn, self.name)
        self.clock = clock.SimClock(self.conninfo, start)

    @property
    def conninfo(self) -> str:
        return self.server.conninfo(self.name)

    def connect(self, autocommit: bool = True, **kwargs) -> psycopg.Connection:
        return psycopg.connect(self.conninfo, autocommit=autocommit, application_name="rollup-bench", **kwargs)

    def drop(self) -> None:
        self.clock.close()
        with psycopg.connect(self.server.admin_conninfo, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)))

    def __enter__(self) -> Database:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self.drop()
        except psycopg.OperationalError:
            if exc is None:  # a failure of its own; after another (the server died mid-block), that one tells
                raise
