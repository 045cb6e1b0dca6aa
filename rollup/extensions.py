"""The extensions a chain's migrations create, and the servers that can load them.

Decided without starting a server where possible: a backend the bench starts itself has an extension when its
share/extension/<name>.control exists; docker's image (the official one) ships PostgreSQL's contrib modules, so
it has those when a Docker engine is reachable. `choose` is `--pg auto` / `server = "auto"`: the first of
embedded, local and docker that has every extension the chain creates.
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


@dataclass(frozen=True)
class Need:
    """A CREATE EXTENSION in a migration file: where, and the extension's name (as PostgreSQL folds it)."""

    path: Path
    line: int
    name: str

    def __str__(self) -> str:
        return f"{self.path.name}:{self.line}"


def needs(paths: list[Path]) -> list[Need]:
    """Every CREATE EXTENSION [IF NOT EXISTS] in these files, in order; comments are skipped, quoted names kept
    as written, unquoted ones lower-cased."""
    found = []
    for path in paths:
        text = path.read_text(errors="replace")
        code = _COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), text)  # blanked, so lines stay put
        for m in _CREATE.finditer(code):
            word = m.group(1)
            name = word[1:-1].replace('""', '"') if word.startswith('"') else word.lower()
            found.append(Need(path, code.count("\n", 0, m.start()) + 1, name))
    return found


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
    """`auto`: the first of embedded, local and docker that has every extension these migrations create, and
    why, in words. When none has them all, embedded (whose migration then fails naming what is missing)."""
    wanted: dict[str, Need] = {}
    for need in needs(paths):
        wanted.setdefault(need.name, need)
    if not wanted:
        return "embedded", "the chain creates no extension"
    skipped = []
    for backend in AUTO_ORDER:
        lacking = [n for n in wanted if not has(backend, n, pg_bin)]
        if not lacking:
            if not skipped:
                return backend, f"it has every extension the chain creates ({', '.join(wanted)})"
            return backend, "; ".join(skipped)
        n = lacking[0]
        skipped.append("docker: no Docker engine is reachable" if backend == "docker" and n in CONTRIB
                       else f"{backend} lacks {n!r} ({wanted[n]} creates it)")
    return "embedded", f"no server has every extension the chain creates: {'; '.join(skipped)}; trying embedded"
