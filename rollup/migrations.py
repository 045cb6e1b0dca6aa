"""Targets (directories of migrations) and a runner with upstream's semantics.

Up files `*.up.sql` are sorted by file name as plain strings; each is sent as one simple-protocol query (one
implicit transaction per file) and its version — the name without `.up.sql` — is recorded in
`schema_migrations` afterwards. The first failure stops the run. Hooks run before a named version.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import psycopg

from rollup.database import Database
from rollup.extensions import MissingExtension, needs, offers
from rollup.measures import DEFAULT_MEASURES, Column, DeclarationError, Lines, Measure, parse_columns, parse_measures
from rollup.readside import ReadSide, judged_measures
from rollup.readside import load as load_read_side
from rollup.templates import PROBE, Base, drop, move, moved

MIGRATIONS_ROOT = Path(__file__).resolve().parent.parent / "migrations"
# Named targets: directories under migrations/, merged by file name (later directories win a clash).
NAMED_TARGETS = {"reference": ("reference",), "hardened": ("reference", "hardened")}
# The read side each target is paired with: the application as upstream ships it, or one hardened with it.
READ_SIDES = {"hardened": "hardened"}


class TargetError(ValueError):
    """A target that names no usable directory of migrations."""


@dataclass(frozen=True)
class Migration:
    version: str
    up: Path
    down: Path | None

    @property
    def number(self) -> str:
        return self.version.split("_", 1)[0]


ROLLUPS_FILE = "rollups.toml"  # beside a target's migrations: the further rollup tables it keeps


@dataclass(frozen=True)
class Rollup:
    """A rollup table and its grain: each row measures the raw usage of one key in one bucket of `grain_minutes`
    starting at `bucket` (UTC), with the hourly table's key columns otherwise, and a column per measure
    (rollup/measures.py)."""

    table: str
    bucket: str
    grain_minutes: int
    measures: tuple[Measure, ...] = DEFAULT_MEASURES


HOURLY = Rollup("task_usage_hourly", "bucket_hour", 60)


@dataclass(frozen=True)
class Target:
    name: str
    dirs: tuple[Path, ...]
    side: str | None = None  # the read side asked for (rollup/readside.py); None: the target's own (READ_SIDES)

    @classmethod
    def resolve(cls, spec: str, read_side: str | None = None) -> Target:
        """`reference`, `hardened`, or directories joined by commas, merged by file name; with the read side
        its reports are read through, when not the target's own (loaded here, so a bad one fails here)."""
        if spec in NAMED_TARGETS:
            dirs = tuple(MIGRATIONS_ROOT / d for d in NAMED_TARGETS[spec])
        else:
            dirs = tuple(Path(p).expanduser() for p in spec.split(",") if p)
        for d in dirs:
            if not d.is_dir():
                raise TargetError(f"target {spec!r}: {d} is not a directory")
        target = cls(spec, dirs, read_side)
        if not target.migrations():
            raise TargetError(f"target {spec!r}: no *.up.sql files in {', '.join(map(str, dirs))}")
        target.reads  # noqa: B018  (loaded now: a bad read side is bad input, said before any work)
        if any((d / ROLLUPS_FILE).is_file() for d in dirs):
            target.rollups()  # and its declarations (rollups.toml), for the same reason
        if any(r.measures for _, r in target.reads.reports):  # measures its mapping names: declared, additive
            hourly = next((r for r in target.rollups() if r.table == HOURLY.table), HOURLY)
            judged_measures(target.reads, {m.name: m.agg for m in hourly.measures})
        return target

    @cached_property
    def reads(self) -> ReadSide:
        """The read side its reports are read through, its query file read once."""
        return load_read_side(self.side or READ_SIDES.get(self.name, "faithful"))

    @property
    def read_side(self) -> str:
        """Its read side's name: 'faithful' (as upstream ships it), 'hardened' (exact for every zone, safe names),
        or the read side's file."""
        return self.reads.name

    def rollups(self) -> list[Rollup]:
        """The hourly table, and the further rollup tables the target's directories declare in rollups.toml:
        [[rollup]] with table, bucket (its bucket-start column) and grain ("15m", "1h", …, dividing an hour or a
        multiple of one), and optionally [rollup.measures] beyond the defaults (rollup/measures.py). The hourly
        table may be declared again to add measures (its bucket and grain, if given, must be its own)."""
        return self._declared()[0]

    def usage_columns(self) -> tuple[Column, ...]:
        """The optional raw columns of task_usage the target declares ([usage_columns.NAME] in rollups.toml)."""
        return tuple(self._declared()[1].values())

    def _declared(self) -> tuple[list[Rollup], dict[str, Column]]:
        import tomllib

        files = [(d / ROLLUPS_FILE) for d in self.dirs if (d / ROLLUPS_FILE).is_file()]
        parsed = []
        for path in files:
            try:
                text = path.read_text(encoding="utf-8")
                parsed.append((path, text, tomllib.loads(text)))
            except (OSError, UnicodeDecodeError) as exc:
                raise TargetError(f"{path}: cannot read it ({' '.join(str(exc).split())[:160]})") from None
            except tomllib.TOMLDecodeError as exc:
                raise TargetError(f"{path}: not valid TOML ({exc})") from None
            if not isinstance(parsed[-1][2].get("rollup", []), list):
                raise TargetError(f"{path}: rollup: expected [[rollup]] tables, got {parsed[-1][2]['rollup']!r:.40}")
        try:
            columns: dict[str, Column] = {}
            for path, text, data in parsed:
                columns |= parse_columns(path, text, data)
            found = {HOURLY.table: HOURLY}
            for path, text, data in parsed:
                for n, e in enumerate(data.get("rollup", []), 1):
                    r = self._rollup(path, text, e, n, columns)
                    found[r.table] = r
        except DeclarationError as exc:
            raise TargetError(str(exc)) from None
        return list(found.values()), columns

    @staticmethod
    def _rollup(path: Path, text: str, e: dict, n: int, columns: dict[str, Column]) -> Rollup:
        hourly = isinstance(e, dict) and e.get("table") == HOURLY.table
        defaults = {"bucket": HOURLY.bucket, "grain": "1h"} if hourly else {}
        try:
            e = {**defaults, **e}
            minutes = _minutes(e["grain"])
            if not str(e["table"]).isidentifier() or not str(e["bucket"]).isidentifier():
                raise ValueError("table and bucket must be plain SQL names")
            if hourly and (e["bucket"], minutes) != (HOURLY.bucket, HOURLY.grain_minutes):
                raise ValueError(f"{HOURLY.table} is bucketed by {HOURLY.bucket} at 1h")
            if set(e) - {"table", "bucket", "grain", "measures"}:
                raise ValueError(f"unknown keys {', '.join(sorted(set(e) - {'table', 'bucket', 'grain', 'measures'}))}")
        except (KeyError, TypeError, ValueError) as exc:
            raise TargetError(f"{path}: each [[rollup]] needs table, bucket and grain like '15m' ({exc})") from None
        measures = parse_measures(Lines(path, text), f"rollup[{n}].measures", e.get("measures", {}), columns)
        return Rollup(e["table"], e["bucket"], minutes, measures)

    def _files(self, suffix: str) -> dict[str, Path]:
        merged: dict[str, Path] = {}
        for d in self.dirs:
            for f in d.glob("*" + suffix):
                merged[f.name] = f
        return merged

    def migrations(self) -> list[Migration]:
        ups, downs = self._files(".up.sql"), self._files(".down.sql")
        result = []
        for name in sorted(ups):
            version = name.removesuffix(".up.sql")
            result.append(Migration(version, ups[name], downs.get(version + ".down.sql")))
        return result

    def sql_files(self) -> list[Path]:
        return [f for m in self.migrations() for f in (m.up, m.down) if f]

    def find(self, ref: str) -> Migration:
        """A migration by full version or by its number (`103`)."""
        for m in self.migrations():
            if ref in (m.version, m.number):
                return m
        raise TargetError(f"target {self.name!r} has no migration {ref!r}")


def _minutes(grain: str) -> int:
    value, unit = int(grain[:-1]), grain[-1]
    minutes = value * {"m": 1, "h": 60}[unit]
    if minutes <= 0 or (60 % minutes and minutes % 60):
        raise ValueError(f"grain {grain!r} neither divides an hour nor is a multiple of one")
    return minutes


class MigrationError(RuntimeError):
    """A migration file failed; names the file, the error and where in the file it happened."""

    def __init__(self, path: Path, error: psycopg.Error, text: str):
        self.path, self.error = path, error
        self.sqlstate = error.sqlstate
        self.line = self.column = None
        pos = error.diag.statement_position
        if pos:
            before = text[: int(pos) - 1]
            self.line = before.count("\n") + 1
            self.column = len(before) - before.rfind("\n")
        where = f":{self.line}:{self.column}" if self.line else ""
        message = (error.diag.message_primary or str(error)).strip()
        detail = f" ({error.diag.context.strip().splitlines()[0]})" if error.diag.context else ""
        super().__init__(f"{path.name}{where}: {message}{detail} [SQLSTATE {self.sqlstate}]")


Hook = Callable[[Database], object]


def default_hooks() -> dict[str, Hook]:
    from rollup.backfill import pre_103_hook

    return {"103": pre_103_hook}


class Runner:
    """Applies and reverts a target's migrations on one database."""

    def __init__(self, db: Database, target: Target, hooks: dict[str, Hook] | None = None,
                 on_apply: Callable[[str, str], None] | None = None):
        self.db, self.target = db, target
        self.hooks = default_hooks() if hooks is None else hooks
        self.on_apply = on_apply or (lambda action, version: None)

    def applied(self) -> list[str]:
        with self.db.connect() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            return [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]

    def _execute(self, conn: psycopg.Connection, path: Path) -> None:
        text = path.read_text()
        try:
            conn.execute(text, prepare=False)  # no parameters: the simple query protocol
        except psycopg.Error as exc:
            raise self._unloadable(path) or MigrationError(path, exc, text) from exc

    def _unloadable(self, path: Path) -> MissingExtension | None:
        """When a file failed: the first extension it creates that the server cannot load (a missing extension is
        the server's shortcoming, not the chain's), with the servers that have it."""
        found = needs([path])
        if not found:
            return None
        try:
            with self.db.connect() as conn:
                available = {r[0] for r in conn.execute("SELECT name FROM pg_available_extensions")}
        except psycopg.Error:
            return None  # the server went away: the migration's own error says so
        backend = self.db.server.backend
        for need in found:
            if need.name not in available:
                return MissingExtension(backend, need, offers(need.name, besides=backend))
        return None

    def up(self, to: str | None = None) -> list[str]:
        """Apply pending migrations up to and including `to` (all when None); return the versions applied. One
        session for the run, as golang-migrate keeps one (a session per file cost a long chain most of its time);
        a hook runs on sessions of its own."""
        last = self.target.find(to).version if to else None
        done = set(self.applied())
        applied = []
        conn = None
        try:
            for m in self.target.migrations():
                if last is not None and m.version > last:
                    break
                if m.version in done:
                    continue
                hook = self.hooks.get(m.number) or self.hooks.get(m.version)
                if hook:
                    self.on_apply("hook", m.version)
                    hook(self.db)
                conn = conn if conn is not None and not conn.closed else self.db.connect()
                self._execute(conn, m.up)
                conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (m.version,))
                self.on_apply("up", m.version)
                applied.append(m.version)
        finally:
            if conn is not None:
                conn.close()
        return applied

    def down(self, to: str | None = None) -> list[str]:
        """Revert applied migrations newer than `to` (all when None), newest first; return them."""
        keep = self.target.find(to).version if to else ""
        by_version = {m.version: m for m in self.target.migrations()}
        reverted = []
        with self.db.connect() as conn:
            for version in sorted(self.applied(), reverse=True):
                if version <= keep:
                    break
                m = by_version.get(version)
                if m is None or m.down is None:
                    raise TargetError(f"target {self.target.name!r} has no down migration for {version}")
                self._execute(conn, m.down)
                conn.execute("DELETE FROM schema_migrations WHERE version = %s", (version,))
                self.on_apply("down", version)
                reverted.append(version)
        return reverted


class Templates:
    """Migrated databases to clone on one server, made on first use: one per target and migration point, moved
    to each run's start (rollup/templates.py says when that is exact, and what it does otherwise). A clone costs a
    file copy, where migrating costs every file's DDL (and the hook's work).

    A target whose last directory replaces files of the ones before it (an overlay, as a mutant of a chain is:
    rollup-bench mutate) is migrated from a clone of the chain before the first replaced file, so overlays of one
    chain share its unchanged prefix and apply only the replaced file and those after it. The newest `overlays`
    overlay targets keep their templates (each is a database: a mutation run makes hundreds)."""

    def __init__(self, server, overlays: int = 4):
        self.server = server
        self.made: dict[tuple, str] = {}  # every template database, by (dirs, to) or (dirs, to, start)
        self.bases: dict[tuple, Base] = {}
        self.failed: dict[tuple, Exception] = {}
        self.overlays, self._overlaid = overlays, []  # the overlay targets' keys, oldest first

    def fresh(self, target, start: datetime, to: str | None = None) -> Database:
        """A new database as `Runner(db, target).up(to)` at simulated `start` would leave it."""
        key = (target.dirs, to)
        if key in self.failed:  # a chain that failed to migrate fails the same way again: say so at once
            raise self.failed[key]
        base = self.bases.get(key)
        if base is None:
            base = self.bases[key] = Base(self._migrate(target, start, to), start)
            self.made[key] = base.name
            if self._below(target, to) is not None:
                self._overlaid.append(key)
                while len(self._overlaid) > self.overlays:
                    self._forget(self._overlaid.pop(0))
        if start == base.start:
            return Database(self.server, start, template=base.name)
        if base.moves is None and not base.per_start:
            self._probe(base, target, to)
        if base.per_start:
            own = (*key, start)
            if own not in self.made:
                self.made[own] = self._migrate(target, start, to)
            return Database(self.server, start, template=self.made[own])
        db = Database(self.server, start, template=base.name)
        try:
            move(db, base.moves, start - base.start)
        except BaseException:
            db.drop()
            raise
        return db

    def _migrate(self, target, start: datetime, to: str | None) -> str:
        below = self._below(target, to)
        db = self.fresh(below[0], start, below[1]) if below else Database(self.server, start)
        try:
            Runner(db, target).up(to)
        except (MigrationError, MissingExtension) as exc:
            db.drop()
            self.failed[(target.dirs, to)] = exc
            raise
        except BaseException:
            db.drop()
            raise
        db.clock.close()  # a template must have no sessions
        return db.name

    def _below(self, target, to: str | None) -> tuple | None:
        """(the chain under an overlay, its last version before the first file the overlay replaces), to migrate
        the overlay from; None for a target that overlays nothing (or replaces its chain's first file)."""
        if len(target.dirs) < 2:
            return None
        below = Target(target.name, target.dirs[:-1], target.side)
        chain = [m.up.name for m in below.migrations()]
        replaced = sorted(set(chain) & {f.name for f in target.dirs[-1].glob("*.up.sql")})
        if not replaced or replaced[0] == chain[0]:
            return None
        before = chain[chain.index(replaced[0]) - 1].removesuffix(".up.sql")
        last = target.find(to).version if to else None
        return below, (last if last and last < before else before)

    def _probe(self, base: Base, target, to: str | None) -> None:
        """Migrate the prefix again PROBE later, and keep what moved with the clock, if that is all that did."""
        try:
            probe = self._migrate(target, base.start + PROBE, to)
        except (MigrationError, MissingExtension):
            self.failed.pop((target.dirs, to), None)  # it migrates at its own start; only not at the probe's
            base.per_start = True
            return
        try:
            base.moves = moved(self.server.conninfo(base.name), self.server.conninfo(probe), PROBE)
            base.per_start = base.moves is None
        finally:
            drop(self.server, probe)

    def _forget(self, key: tuple) -> None:
        """Drop an overlay target's templates (its base and any made per start)."""
        self.bases.pop(key, None)
        for k in [k for k in self.made if k[:2] == key]:
            drop(self.server, self.made.pop(k))

    def drop(self) -> None:
        for name in self.made.values():
            drop(self.server, name)
        self.made.clear()
        self.bases.clear()
        self._overlaid.clear()
