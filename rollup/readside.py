"""A read side: the application's own named-query file (rollup/queries.py) and how the three reports the bench
judges map onto it. Python computes the parameters as the application does (rollup/reports.py: zone resolution,
window, cutoff), binds them and runs the named query; the reports' SQL is all in the file.

`--read-side` (and a project's `read_side`) names one of:
- `faithful` or `hardened`: the built-in files, rollup/read_sides/*.sql (hardened claims exact local days);
- a `.sql` query file whose queries carry the default names and take the bench's value names as parameters;
- a `.toml` read-side file — `queries = "usage.sql"` or a list of files and globs (relative to it, or absolute),
  `exact = false`, and per report a table `[workspace_daily]` with `query`, `params` (a list of value names for
  `$1`…`$n`, or a table query parameter → value name, `$k` and names mixed: `{ "$1" = "workspace_id", since =
  "cutoff" }`; a named parameter not in it is bound by its own name), `columns` (result column → the bench's
  name or a measure's) and `measures` (declared measures the report carries beside the token sums, judged at
  report grain like them); in a `pyproject.toml` the same under `[tool.rollup-bench.read_side]`, in a
  `rollup-bench.toml` under `[read_side]`. Queries no report maps are never bound nor run (they may read tables
  the bench never fills); a name two files share is an error only for a query a report maps.
`exact` is the read side's claim that its days are the zone's true local days: the checker then judges its reports
against them instead of counting representation error. It is declared, never read from the SQL.
"""

from __future__ import annotations

import glob
import hashlib
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import psycopg

from rollup import queries as queries_
from rollup.reports import TOKENS, ReportQuery
from rollup.tomllines import Locator

BUILT_IN = {"faithful": False, "hardened": True}  # name -> whether it claims exact local days
FILES = Path(__file__).resolve().parent / "read_sides"
DEFAULT_QUERIES = {"workspace_daily": "WorkspaceDailyUsage", "workspace_by_agent": "WorkspaceUsageByAgent",
                   "runtime_daily": "RuntimeDailyUsage"}
_WINDOW = ("tz", "cutoff", "days", "now")
OFFERED = {"workspace_daily": ("workspace_id", "project_id", *_WINDOW),  # the values the bench binds, per report
           "workspace_by_agent": ("workspace_id", "project_id", *_WINDOW), "runtime_daily": ("runtime_id", *_WINDOW)}
COLUMNS = {k: ("agent_id" if k == "workspace_by_agent" else "date", "provider", "model", *TOKENS, "task_count")
           for k in DEFAULT_QUERIES}
REQUIRED = {k: c[:-1] for k, c in COLUMNS.items()}  # what the checker reads (task_count it does not)
CONFIGS = {"pyproject.toml": ("tool", "rollup-bench", "read_side"), "rollup-bench.toml": ("read_side",)}
_KEYS, _REPORT_KEYS = ("queries", "exact", *DEFAULT_QUERIES), ("query", "params", "columns", "measures")


class ReadSideError(ValueError):
    """A read side that cannot be used; str() is one line naming the file (and line) and what is wrong."""


@dataclass(frozen=True)
class Report:
    """One report as a read side runs it."""

    query: str
    line: int  # of the query in its file
    text: str  # psycopg's form
    binds: tuple[tuple[str, str], ...]  # (query parameter, the bench's value)
    columns: tuple[tuple[str, str], ...]  # (result column, the bench's name) for those renamed
    file: Path = FILES / "faithful.sql"  # the file it is in
    measures: tuple[str, ...] = ()  # declared measures the mapping says the report carries, besides the tokens
    where_measures: str = ""  # where the mapping names them, for errors


@dataclass(frozen=True)
class ReadSide:
    name: str  # faithful, hardened, or the file as given
    files: tuple[Path, ...]  # its query files
    sha256: str  # of the query file (of their digests, for several), so a replay can tell when it changed
    exact: bool
    reports: tuple[tuple[str, Report], ...]

    def report(self, kind: str) -> Report:
        return dict(self.reports)[kind]

    @property
    def queries(self) -> str:
        return ", ".join(map(str, self.files))


def load(spec: str) -> ReadSide:
    """A read side by name or file (relative paths from the current directory)."""
    if spec in BUILT_IN:
        return _built_in(spec)
    path = Path(spec).expanduser()
    if path.suffix == ".sql":
        return _read_side(spec, (path,), False, {})
    if path.suffix == ".toml":
        return _from_toml(spec, path)
    raise ReadSideError(f"read side {spec!r}: give {', '.join(BUILT_IN)}, a .sql query file or a .toml read-side "
                        "file")


@cache
def _built_in(name: str) -> ReadSide:
    return _read_side(name, (FILES / f"{name}.sql",), BUILT_IN[name], {})


def _from_toml(spec: str, path: Path) -> ReadSide:
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ReadSideError(f"{path}: cannot read it as a read side ({' '.join(str(exc).split())})") from None
    prefix = CONFIGS.get(path.name, ())
    for key in prefix:
        data = data.get(key, {})
    lines = Locator(text)

    def at(*keys: str) -> str:
        line = lines.line((*prefix, *keys))
        return f"{path}{f':{line}' if line else ''}: {'.'.join((*prefix, *keys))}"

    given = data.get("queries") if isinstance(data, dict) else None
    if isinstance(given, str):
        given = [given]
    if not isinstance(given, list) or not given or not all(isinstance(g, str) and g for g in given):
        raise ReadSideError(f"{at('queries')}: give the query files, queries = \"usage.sql\" or a list of files and "
                            "globs (relative to this file)")
    unknown = sorted(set(data) - set(_KEYS))
    if unknown:
        raise ReadSideError(f"{at(unknown[0])}: unknown key; expected {', '.join(_KEYS)}")
    if not isinstance(data.get("exact", False), bool):
        raise ReadSideError(f"{at('exact')}: expected true or false")
    mapping = {}
    for kind in DEFAULT_QUERIES:
        entry = data.get(kind, {})
        if not isinstance(entry, dict) or set(entry) - set(_REPORT_KEYS):
            raise ReadSideError(f"{at(kind)}: expected a table of {', '.join(_REPORT_KEYS)}")
        mapping[kind] = (entry, lambda *keys, k=kind: at(k, *keys))
    return _read_side(spec, _files(path.parent, given, at("queries")), data.get("exact", False), mapping)


def _files(base: Path, patterns: list[str], at: str) -> tuple[Path, ...]:
    """The query files the patterns name (files or globs, relative to `base` or absolute), each once, in order."""
    found: dict[Path, None] = {}
    for pattern in patterns:
        full = str(base / Path(pattern).expanduser())  # an absolute pattern stays as it is
        if glob.has_magic(pattern):
            matched = sorted(Path(f) for f in glob.glob(full, recursive=True) if Path(f).is_file())
            if not matched:
                raise ReadSideError(f"{at}: {pattern!r} matches no file")
        else:
            matched = [Path(full)]
        found.update(dict.fromkeys(matched))
    return tuple(found)


def _read_side(name: str, files: tuple[Path, ...], exact: bool, mapping: dict) -> ReadSide:
    found: dict[str, list[tuple[Path, queries_.Query]]] = {}
    digests = []
    for file in files:
        try:
            for qname, q in queries_.load(file).items():
                found.setdefault(qname, []).append((file, q))
            digests.append(hashlib.sha256(file.read_bytes()).hexdigest())
        except queries_.QueryFileError as exc:
            raise ReadSideError(str(exc)) from None
    # one file: its own digest, as histories recorded before read sides took several
    sha = digests[0] if len(digests) == 1 else hashlib.sha256("".join(digests).encode()).hexdigest()
    reports = tuple((kind, _report(kind, found, files, *mapping.get(kind, ({}, None)))) for kind in DEFAULT_QUERIES)
    return ReadSide(name, files, sha, exact, reports)


def _report(kind: str, found: dict, files: tuple[Path, ...], entry: dict, at) -> Report:
    """A report's query with its parameters bound to the bench's values and its columns named as the bench names
    them; `at(key…)` says where in the mapping a key is (None: the default mapping). Queries no report maps are
    never looked at beyond their names."""
    name = entry.get("query", DEFAULT_QUERIES[kind])
    where = at("query") if at and "query" in entry else f"{files[0]}: {kind}"
    if not isinstance(name, str) or name not in found:
        have = ", ".join(found) or "none"
        them, verb = (files[0].name, "it has") if len(files) == 1 else \
            (f"none of {', '.join(f.name for f in files)}", "they have")
        raise ReadSideError(f"{where}: {them} has no query {name} ({verb}: {have})")
    if len(found[name]) > 1:
        (f1, q1), (f2, q2) = found[name][:2]
        raise ReadSideError(f"{f2}:{q2.line}: query {name} again (also at {f1}:{q1.line}); {kind} maps it, so it "
                            "must be one")
    file, q = found[name][0]
    params, renames, measures = entry.get("params", {}), entry.get("columns", {}), entry.get("measures", [])
    if not isinstance(params, list | dict):
        raise ReadSideError(f"{at('params')}: expected a list of value names ($1…$n) or a table parameter = value "
                            "(params = { \"$1\" = \"workspace_id\", since = \"cutoff\" })")
    for value in params if isinstance(params, list) else params.values():
        if value not in OFFERED[kind]:
            raise ReadSideError(f"{at('params')}: {value!r} is not a value the bench offers {kind} (it offers "
                                f"{', '.join(OFFERED[kind])})")
    if isinstance(params, dict):
        used = {_key(k) for k in params} - set(q.params)
        if used:
            raise ReadSideError(f"{at('params')}: {name} ({file.name}:{q.line}) has no parameter "
                                f"{sorted(used)[0]} (it has {', '.join(q.params) or 'none'})")
    if not isinstance(measures, list) or not all(isinstance(m, str) and m.isidentifier() for m in measures):
        raise ReadSideError(f"{at('measures')}: expected a list of measure names declared in rollups.toml")
    if not isinstance(renames, dict) or not all(v in (*COLUMNS[kind], *measures) for v in renames.values()):
        raise ReadSideError(f"{at('columns')}: expected result column = one of {', '.join(COLUMNS[kind])} or a "
                            "measure named in measures")
    binds = []
    for p, line in zip(q.params, q.param_lines or (q.line,) * len(q.params), strict=True):
        value = _bound(p, params)
        if value not in OFFERED[kind]:
            how = "params = [...] binds $1…$n in order, or a table: params = { \"$1\" = …}" if p.startswith("$") \
                else f"name it one of {', '.join(OFFERED[kind])} or map it in params: {{ {p} = … }}"
            raise ReadSideError(f"{file}:{line}: {name} uses {p if p.startswith('$') else '@' + p}, which the "
                                f"mapping of {kind} does not bind ({how})")
        binds.append((p, value))
    where_measures = at("measures") if at and "measures" in entry else where
    return Report(name, q.line, q.text, tuple(binds), tuple(renames.items()), file, tuple(measures), where_measures)


def _key(param: str) -> str:
    """A parameter as a mapping names it: `$1`, `since`, `@since` or `:since` (the last two as `since`)."""
    return param[1:] if param[:1] in "@:" else param


def _bound(param: str, params: list | dict) -> str | None:
    """The bench's value a query parameter is bound to: `$k` by position in a list or by the table, a name by
    the table (under its name, `@name` or `:name`) or by itself."""
    if isinstance(params, dict):
        table = {_key(k): v for k, v in params.items()}
        return table.get(param, None if param.startswith("$") else param)
    if param.startswith("$"):
        k = int(param[1:])
        return params[k - 1] if 1 <= k <= len(params) else None
    return param


def judged_measures(side: ReadSide, declared: dict[str, str]) -> None:
    """Check the measures a read side's mapping names against those the target declares (name -> aggregate):
    each must be declared and additive over hours (a sum or a count), since a report sums hourly rows."""
    for kind, report in side.reports:
        for m in report.measures:
            if m not in declared:
                raise ReadSideError(f"{report.where_measures}: {m} is not a measure the target declares in "
                                    f"rollups.toml ({', '.join(declared) or 'none'}) for {kind}")
            if declared[m] == "count_distinct":
                raise ReadSideError(f"{report.where_measures}: {m} counts distinct values, which no report can add "
                                    "up over hours: it cannot be judged at report grain")


def run_report(conn: psycopg.Connection, q: ReportQuery, scope_id, project_id=None,
               side: ReadSide | None = None) -> list[dict]:
    """Rows of one report through the read side's query (default: faithful): `scope_id` is the workspace
    (workspace reports) or the runtime (runtime report); the project filters workspace reports only."""
    return read_report(conn, q, scope_id, project_id, side)[1]


def read_report(conn: psycopg.Connection, q: ReportQuery, scope_id, project_id=None,
                side: ReadSide | None = None) -> tuple[list[str], list[dict]]:
    """(the result's columns, its rows), each named as the bench names it (the mapping's renames applied)."""
    side = side or load("faithful")
    report = side.report(q.report)
    scope = "runtime_id" if q.report == "runtime_daily" else "workspace_id"
    values: dict[str, object] = {scope: scope_id, "project_id": project_id, "tz": q.zone, "cutoff": q.cutoff,
                                 "days": q.days, "now": q.now}
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        rows = cur.execute(report.text, {p: values[v] for p, v in report.binds}).fetchall()
        returned = [c.name for c in cur.description or ()]
    renamed = dict(report.columns)
    named = [renamed.get(r, r) for r in returned]
    missing = [c for c in (*REQUIRED[q.report], *report.measures) if c not in named]
    if missing:
        raise ReadSideError(f"{report.file}:{report.line}: {report.query} returns no "
                            f"{', '.join(missing)} (it returns {', '.join(returned)}); rename with columns")
    return named, [{renamed.get(k, k): v for k, v in r.items()} for r in rows] if renamed else rows


def changed(recorded: dict, side: ReadSide) -> str | None:
    """What differs between the read side a history's checks recorded (their index's meta) and `side`."""
    if "read_side" not in recorded:
        return None
    if recorded["read_side"] != side.name:
        return f"the history was read through {recorded['read_side']}, this run through {side.name}"
    if recorded.get("read_side_sha256", side.sha256) != side.sha256:
        return (f"{side.queries} changed since the history was recorded (sha256 {recorded['read_side_sha256'][:12]}… "
                f"then, {side.sha256[:12]}… now)")
    return None


def meta(side: ReadSide) -> dict:
    """What a history's checks record of the read side."""
    return {"read_side": side.name, "read_side_exact": side.exact, "read_side_sha256": side.sha256}

