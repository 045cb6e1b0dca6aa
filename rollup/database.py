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

    def __init__(self, server: Server, start: datetime, name: str | None = None, template: str | None = None,
                 file_copy: bool = False):
        """`file_copy`: clone the template by copying its files (PostgreSQL 15+) rather than block by block
        through the WAL, PostgreSQL's default: for a big template, a fraction of the time and no WAL, at the
        price of two checkpoints (which flush the server's dirty pages, not only the copy's)."""
        self.server = server
        self.name = name or f"rollup_bench_{secrets.token_hex(6)}"
        with psycopg.connect(server.admin_conninfo, autocommit=True) as admin:
            create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name))
            if template:
                create += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
                if file_copy and admin.info.server_version >= 150000:
                    create += sql.SQL(" STRATEGY FILE_COPY")
            admin.execute(create)
        with self.connect() as conn:
            if template is None:
                clock.install(conn, self.name)
            else:
                clock.route(conn, self.name)
        self.clock = clock.SimClock(self.conninfo, start)
        # role (a writer's session, the tick, the backfill) -> the TimeZone its sessions run in; "" is the server's
        # default. Empty: every session in UTC. The bench's own sessions (role None) always run in UTC, so only
        # the application's SQL can depend on a session's zone.
        self.zones: dict[str, str] = {}
        self.app_settings: dict[str, str] = {}  # further settings of every application role's sessions

    @property
    def conninfo(self) -> str:
        return self.server.conninfo(self.name)

    def connect(self, autocommit: bool = True, role: str | None = None, **kwargs) -> psycopg.Connection:
        zone = self.zones.get(role, "" if self.zones else "UTC") if role else "UTC"
        settings = {"TimeZone": zone} if zone else {}
        if role:
            settings |= self.app_settings
        if settings:
            kwargs.setdefault("options", " ".join(f"-c {k}={v}" for k, v in settings.items()))
        return psycopg.connect(self.conninfo, autocommit=autocommit, application_name="rollup-bench", **kwargs)

    def set_zones(self, zones: dict[str, str]) -> None:
        """Sessions' zones by role, and the database's default (`server`): what a session that sets none gets."""
        self.zones = dict(zones)
        if zones.get("server"):
            with psycopg.connect(self.server.admin_conninfo, autocommit=True) as admin:
                admin.execute(sql.SQL("ALTER DATABASE {} SET timezone TO {}").format(
                    sql.Identifier(self.name), sql.Literal(zones["server"])))

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
