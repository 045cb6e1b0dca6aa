"""The extensions a chain's migrations create, and the servers that can load them.

Decided without starting a server where possible: a backend the bench starts itself has an extension when its
share/extension/<name>.control exists; docker's image (the official one) ships PostgreSQL's contrib modules, so
it has those when a Docker engine is reachable. `choose` is `--pg auto` / `server = "auto"`: the first of
embedded, local and docker that has every extension the chain needs. An extension created only optionally — in a
PL/pgSQL block whose EXCEPTION handler takes its absence, or behind an IF on pg_available_extensions — is no
need: that is decided on PostgreSQL's own parse tree (pglast), statements and DO bodies alike.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from rollup.servers import ProvisionError, extension_dir

AUTO = "auto"
AUTO_ORDER = ("embedded", "local", "docker")
# PostgreSQL 18's contrib extensions: what the official image ships beside the server, and so docker has.
CONTRIB = frozenset((
    "amcheck", "autoinc", "bloom", "btree_gin", "btree_gist", "citext", "cube", "dblink", "dict_int",
    "dict_xsyn", "earthdistance", "file_fdw", "fuzzystrmatch", "hstore", "insert_username", "intagg",
    "intarray", "isn", "lo", "ltree", "moddatetime", "pageinspect", "pg_buffercache", "pg_freespacemap",
    "pg_logicalinspect", "pg_prewarm", "pg_stat_statements", "pg_surgery", "pg_trgm", "pg_visibility",
    "pg_walinspect", "pgcrypto", "pgrowlocks", "pgstattuple", "plpgsql", "postgres_fdw", "refint", "seg",
    "sslinfo", "tablefunc", "tcn", "tsm_system_rows", "tsm_system_time", "unaccent", "uuid-ossp", "xml2",
))

_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
_CREATE = re.compile(r'\bCREATE\s+EXTENSION\s+(?:IF\s+NOT\s+EXISTS\s+)?("(?:[^"]|"")+"|[A-Za-z_][\w$]*)',
                     re.IGNORECASE)
# Exception conditions under which a failed CREATE EXTENSION counts as handled: a server without the extension
# fails it with undefined_file (no control file) or feature_not_supported (PostgreSQL 15+: "is not available").
ABSENT = frozenset(("others", "undefined_file", "feature_not_supported", "58p01", "0a000"))
CATALOGS = frozenset(("pg_available_extensions", "pg_available_extension_versions"))
_ERROR = 21  # elog's ERROR level: a RAISE at it (or a bare re-raise) in a handler lets the failure through


@dataclass(frozen=True)
class Need:
    """A CREATE EXTENSION in a migration file: where, the extension's name (as PostgreSQL folds it), and whether
    the chain can do without it (inside a PL/pgSQL block whose handler takes its absence, or behind a check of
    pg_available_extensions)."""

    path: Path
    line: int
    name: str
    optional: bool = False

    def __str__(self) -> str:
        return f"{self.path.name}:{self.line}"


def creates(paths: list[Path]) -> list[Need]:
    """Every CREATE EXTENSION in these files, in order, each marked optional or not, decided on PostgreSQL's own
    parse tree (pglast): top-level statements, and the bodies of DO blocks in PL/pgSQL, including EXECUTE of a
    literal string. A file the parser rejects is scanned for the statement's text instead, every one required
    (its migration fails anyway)."""
    found = []
    for path in paths:
        text = path.read_text(errors="replace")
        try:
            found += _parsed(path, text)
        except Exception:  # pglast's ParseError, or a body it cannot read: scan the text
            found += _scanned(path, text)
    return found


def needs(paths: list[Path]) -> list[Need]:
    """The extensions these files cannot do without, in order: a server must have each to apply the chain."""
    return [n for n in creates(paths) if not n.optional]


def _scanned(path: Path, text: str) -> list[Need]:
    code = _COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), text)  # blanked, so lines stay put
    out = []
    for m in _CREATE.finditer(code):
        word = m.group(1)
        name = word[1:-1].replace('""', '"') if word.startswith('"') else word.lower()
        out.append(Need(path, code.count("\n", 0, m.start()) + 1, name))
    return out


def _parsed(path: Path, text: str) -> list[Need]:
    from pglast import ast, parse_sql  # only when a chain is looked at: the CLI's start-up stays light

    out = []
    for raw in parse_sql(text):
        stmt, at = raw.stmt, raw.stmt_location or 0
        at += len(text[at:]) - len(text[at:].lstrip())
        line = text.count("\n", 0, at) + 1
        if isinstance(stmt, ast.CreateExtensionStmt):
            out.append(Need(path, line, stmt.extname))
        elif isinstance(stmt, ast.DoStmt):
            args = {a.defname: a.arg.sval for a in stmt.args}
            if args.get("language", "plpgsql").lower() != "plpgsql":
                continue
            body = args["as"]
            first = text.count("\n", 0, text.index(body, at)) + 1 if body in text[at:] else line
            out += [Need(path, first + n - 1, name, optional) for n, name, optional in _in_block(body)]
    return out


def _in_block(body: str) -> list[tuple[int, str, bool]]:
    """(line within the body, name, optional) of each CREATE EXTENSION a DO block's body runs."""
    from pglast import parse_plpgsql

    found: list[tuple[int, str, bool]] = []
    tree = parse_plpgsql(f"DO $rollup_bench$\n{body}\n$rollup_bench$")
    _walk(tree, False, found, 0)
    return [(line - 1, name, optional) for line, name, optional in found]  # less the line the wrapper adds


def _walk(node, guarded: bool, found: list, line: int) -> None:
    """Through a PL/pgSQL tree (pglast's JSON form), `guarded` once inside a block whose handler takes the
    extension's absence or an IF on pg_available_extensions."""
    if isinstance(node, list):
        for item in node:
            _walk(item, guarded, found, line)
        return
    if not isinstance(node, dict):
        return
    line = node.get("lineno", line)
    for kind, inner in node.items():
        if not isinstance(inner, dict):
            _walk(inner, guarded, found, line)
            continue
        here = inner.get("lineno", line)
        if kind == "PLpgSQL_stmt_block":
            handled = guarded or _handles_absence(inner.get("exceptions"))
            _walk(inner.get("body", []), handled, found, here)
            for exc in (inner.get("exceptions") or {}).get("PLpgSQL_exception_block", {}).get("exc_list", []):
                _walk(exc, guarded, found, here)  # a handler's own statements are not under its guard
        elif kind == "PLpgSQL_stmt_if":
            checked = guarded or _reads_catalog(inner.get("cond", {}).get("PLpgSQL_expr", {}).get("query", ""))
            for part in ("then_body", "elsif_list", "else_body"):
                _walk(inner.get(part, []), checked, found, here)
        elif kind in ("PLpgSQL_stmt_execsql", "PLpgSQL_stmt_dynexecute"):
            expr = inner.get("sqlstmt" if kind == "PLpgSQL_stmt_execsql" else "query", {}).get("PLpgSQL_expr", {})
            found += [(here, name, guarded) for name in _extensions_in(expr.get("query", ""),
                                                                       literal=kind != "PLpgSQL_stmt_execsql")]
        else:
            _walk(inner, guarded, found, here)


def _handles_absence(exceptions: dict | None) -> bool:
    for exc in (exceptions or {}).get("PLpgSQL_exception_block", {}).get("exc_list", []):
        e = exc.get("PLpgSQL_exception", {})
        names = {c.get("PLpgSQL_condition", {}).get("condname", "").lower() for c in e.get("conditions", [])}
        raises = any(s.get("PLpgSQL_stmt_raise", {}).get("elog_level", 0) >= _ERROR for s in e.get("action", []))
        if names & ABSENT and not raises:
            return True
    return False


def _reads_catalog(cond: str) -> bool:
    from pglast import parse_sql
    from pglast.ast import RangeVar
    from pglast.visitors import Visitor

    seen = []

    class Tables(Visitor):
        def visit_RangeVar(self, ancestors, node: RangeVar):
            seen.append(node.relname)

    try:
        Tables()(parse_sql(f"SELECT {cond}"))
    except Exception:  # not an expression the parser takes: no guard it can vouch for
        return False
    return bool(CATALOGS & set(seen))


def _extensions_in(query: str, literal: bool) -> list[str]:
    """The extensions a statement in a block creates; for EXECUTE, only when its text is one string literal."""
    from pglast import ast, parse_sql

    try:
        if literal:
            const = parse_sql(f"SELECT {query}")[0].stmt.targetList[0].val
            if not isinstance(const, ast.A_Const) or not isinstance(const.val, ast.String):
                return []
            query = const.val.sval
        return [s.stmt.extname for s in parse_sql(query) if isinstance(s.stmt, ast.CreateExtensionStmt)]
    except Exception:  # dynamic SQL the parser cannot read: nothing to say about it
        return []


@functools.cache
def docker_reachable() -> bool:
    try:
        import docker

        docker.from_env(timeout=5).ping()
        return True
    except Exception:  # the docker SDK raises several unrelated types when no engine runs
        return False


def has(backend: str, name: str, pg_bin: str | Path | None = None) -> bool:
    """Whether `backend` can load extension `name`, decided without starting it."""
    if backend == "docker":
        return name in CONTRIB and docker_reachable()
    where = extension_dir(backend, pg_bin)
    return where is not None and (where / f"{name}.control").is_file()


def offers(name: str, besides: str, pg_bin: str | Path | None = None) -> list[str]:
    """The servers other than `besides` that have extension `name`, as the options that pick them."""
    out = [f"--pg {b}" for b in ("embedded", "local") if b != besides and has(b, name, pg_bin)]
    if besides != "docker" and name in CONTRIB:
        out.append("--pg docker" if docker_reachable() else "--pg docker (needs a Docker engine)")
    return out


class MissingExtension(ProvisionError):
    """A migration needs an extension the server cannot load: names the file, the extension and the servers
    that have it, on one line (an environment's failure, exit 2, not the target's)."""

    def __init__(self, backend: str, need: Need, elsewhere: list[str]):
        self.need, self.elsewhere = need, elsewhere
        where = (f"servers that have it: {', '.join(elsewhere)}" if elsewhere else
                 "no server the bench starts has it (install it, or give --pg dsn a server that has)")
        super().__init__(backend, f"migration {need} needs extension {need.name!r}, which this server cannot "
                                  f"load; {where}")


def choose(paths: list[Path], pg_bin: str | Path | None = None) -> tuple[str, str]:
    """`auto`: the first of embedded, local and docker that has every extension the chain cannot do without, and
    why, in words: one clause per server passed over. An extension created only optionally decides nothing.
    When no server has them all, embedded (whose migration then fails naming what is missing)."""
    wanted: dict[str, Need] = {}
    optional: dict[str, Need] = {}
    for need in creates(paths):
        (optional if need.optional else wanted).setdefault(need.name, need)
    aside = [n for n in optional if n not in wanted]
    spare = (f"; {', '.join(map(repr, aside))} only optional ({', '.join(str(optional[n]) for n in aside)}),"
             " so no server needs them") if aside else ""
    if not wanted:
        return "embedded", ("the chain needs no extension" + spare) if aside else "the chain creates no extension"
    skipped = []
    for backend in AUTO_ORDER:
        lacking = [n for n in wanted if not has(backend, n, pg_bin)]
        if not lacking:
            if not skipped:
                return backend, f"it has every extension the chain needs ({', '.join(wanted)}){spare}"
            return backend, "; ".join(skipped) + spare
        n = lacking[0]
        skipped.append("docker: no Docker engine is reachable" if backend == "docker" and n in CONTRIB
                       else f"{backend} lacks {n!r} ({wanted[n]} creates it)")
    return "embedded", f"no server has every extension the chain needs: {'; '.join(skipped)}; trying embedded"
