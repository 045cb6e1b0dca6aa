"""A project's own configuration of the bench: `[tool.rollup-bench]` in its pyproject.toml, or a rollup-bench.toml,
found in the current directory or the nearest one above it. It says what `rollup-bench gate` (and `run`) should
do with no options: the target's migration directories, the read side, the server, the scenarios, expectation
overrides per scenario, where reports go. Options on the command line win over the file. Paths are relative to
the file. A bad key is named with the file and its line, as in scenarios.

    [tool.rollup-bench]
    migrations = ["db/migrations", "db/rollup-fixes"]   # or target = "hardened"
    read_side = "hardened"                               # faithful | hardened | a .sql or .toml read-side file
    server = "auto"                                      # auto (the default) | embedded | local | docker | dsn
    scenarios = ["gate"]                                 # "gate" (the built-in set) and/or scenario files, globs
    report_dir = "reports/rollup-bench"
    jobs = 2
    accept = ["B10", "B11"]                              # catalogue ids the chain is known to show: fail only on new
    baseline = "rollup-bench-baseline.toml"              # …or read them from the file `gate --write-baseline` wrote
    strict_accept = false                                # true: an accepted id no run shows any more fails

    [tool.rollup-bench.expect.B10]                       # this scenario, on this project's target
    reproduced = true

    [tool.rollup-bench.read_side]                        # or the application's own queries (rollup/readside.py)
    queries = "internal/db/queries/usage.sql"
    [tool.rollup-bench.read_side.workspace_daily]
    query = "ListDashboardUsageDaily"
    params = ["workspace_id", "cutoff", "tz"]            # $1, $2, $3
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from bench.judge.baseline import parse_ids
from bench.workload.scenario import DRIFT, REPRESENTATION, Expectation, ScenarioError
from bench.workload.schema import Context, Locator, Table
from rollup.extensions import AUTO
from rollup.migrations import NAMED_TARGETS
from rollup.readside import BUILT_IN
from rollup.readside import load as load_read_side
from rollup.servers import BACKENDS

FILES = ("rollup-bench.toml", "pyproject.toml")
KEYS = ("migrations", "target", "read_side", "server", "dsn", "pg_bin", "scenarios", "report_dir", "jobs", "expect",
        "accept", "baseline", "strict_accept")
GATE = "gate"  # in `scenarios`: the built-in gate set


@dataclass(frozen=True)
class Project:
    path: Path | None = None  # the file it came from; None: no configuration
    target: str | None = None  # a named target, or directories joined by commas (absolute)
    read_side: str | None = None  # faithful, hardened, or a read side's file (absolute; this file for a table)
    server: str | None = None  # a file that names none: auto; no file: None (the command line's embedded)
    dsn: str | None = None
    pg_bin: str | None = None
    scenarios: tuple[str, ...] = ()  # "gate" and/or absolute paths of scenario files; empty: the gate set
    report_dir: Path | None = None
    jobs: int | None = None
    expect: dict[str, dict] = field(default_factory=dict)  # scenario name -> Expectation fields it overrides
    accept: tuple[str, ...] | None = None  # accepted catalogue ids (accept's and the baseline file's); None: none
    strict_accept: bool = False

    def expectation(self, scenario: str, own: Expectation) -> Expectation:
        """A scenario's expectation for this project's target: its own, with the project's overrides."""
        return replace(own, **self.expect[scenario]) if scenario in self.expect else own


def find(start: Path | None = None) -> Path | None:
    """The configuration file for `start` (default: the current directory): the nearest rollup-bench.toml, or
    pyproject.toml with a [tool.rollup-bench] table, in it or above it."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        for name in FILES:
            path = folder / name
            if path.is_file() and (name != "pyproject.toml" or _has_table(path)):
                return path
    return None


def _has_table(path: Path) -> bool:
    try:
        return "rollup-bench" in tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return True  # say what is wrong with it when it is loaded


def load(path: Path | None = None, writing_baseline: bool = False) -> Project:
    """The project found from the current directory (or the file given); an empty Project if there is none.
    `writing_baseline`: the baseline file it names may not exist yet (`gate --write-baseline` is to write it)."""
    path = path or find()
    if path is None:
        return Project()
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as e:
        raise ScenarioError(str(path), "file", None, f"cannot read: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(str(path), "syntax", None, str(e)) from None
    prefix = ("tool", "rollup-bench") if path.name == "pyproject.toml" else ()
    ctx = Context(str(path), Locator(text))
    table = data.get("tool", {}).get("rollup-bench", {}) if prefix else data
    return _project(Table(ctx, prefix, table, KEYS), path, writing_baseline)


def _project(t: Table, path: Path, writing_baseline: bool = False) -> Project:
    base = path.parent
    target = t.get("target", "", str) or None
    dirs = t.strings("migrations", ())
    if target and dirs:
        t.fail("target", "give migrations (directories) or target (a named one), not both")
    if target and target not in NAMED_TARGETS:
        t.fail("target", f"{target!r} is not one of {', '.join(NAMED_TARGETS)}; name directories in migrations")
    for d in dirs:
        if not (base / d).is_dir():
            t.fail("migrations", f"{d} is not a directory (paths are relative to {base})")
    read_side = _read_side(t, path)
    # auto: the first of embedded, local, docker with every extension the chain creates (rollup/extensions.py)
    server = t.get("server", "", str) or AUTO
    if server not in (*BACKENDS, AUTO):
        t.fail("server", f"{server!r} is not one of {', '.join(BACKENDS)}, {AUTO}")
    dsn = t.get("dsn", "", str) or None
    if server == "dsn" and not dsn:
        t.fail("dsn", "server = 'dsn' needs dsn = 'postgresql://…'")
    scenarios = []
    for s in t.strings("scenarios", ()):
        if s == GATE:
            scenarios.append(GATE)
            continue
        found = _glob(base, s) if any(c in s for c in "*?[") else [base / s]
        if not found or not all(p.is_file() for p in found):
            t.fail("scenarios", f"{s} names no scenario file (paths are relative to {base})")
        scenarios += [str(p.resolve()) for p in found]
    report_dir = t.get("report_dir", "", str)
    jobs = t.number("jobs", 1, int, lo=1) if "jobs" in t.data else None
    pg_bin = t.get("pg_bin", "", str)
    return Project(path=path, target=target or (",".join(str((base / d).resolve()) for d in dirs) or None),
                   read_side=read_side, server=server, dsn=dsn, pg_bin=str(base / pg_bin) if pg_bin else None,
                   scenarios=tuple(scenarios), report_dir=base / report_dir if report_dir else None, jobs=jobs,
                   expect=_overrides(t.table("expect", None)), accept=_accepted(t, base, writing_baseline),
                   strict_accept=t.get("strict_accept", False, bool))


def _glob(base: Path, pattern: str) -> list[Path]:
    """The files a glob names, relative to `base` or absolute (pathlib globs only relative patterns)."""
    import glob

    return sorted(Path(p) for p in glob.glob(str(base / pattern), recursive=True))


_read: dict[tuple, Project] = {}


def forget() -> None:
    """A new command begins: its configuration is read afresh (a test runs many commands in one process)."""
    _read.clear()


def current(path: Path | None = None, writing_baseline: bool = False) -> Project:
    """The project's configuration for this command, read once (`load`'s, kept until `forget`)."""
    key = (str(path.resolve()) if path else str(Path.cwd()), writing_baseline)
    if key not in _read:
        _read[key] = load(path, writing_baseline)
    return _read[key]


def _read_side(t: Table, path: Path) -> str | None:
    """`read_side`: a built-in's name or a file relative to this one, or a table here — either way loaded now, so
    a bad one fails here (a table's errors name this file's lines)."""
    if isinstance(t.data.get("read_side"), dict):
        load_read_side(str(path))
        return str(path)
    name = t.get("read_side", "", str) or None
    if name is None or name in BUILT_IN:
        return name
    file = (path.parent / name).resolve()
    if not file.is_file():
        t.fail("read_side", f"{name!r} is not one of {', '.join(BUILT_IN)}, nor a file (paths are relative to "
                            f"{path.parent})")
    return load_read_side(str(file)).name


def _accepted(t: Table, base: Path, writing: bool = False) -> tuple[str, ...] | None:
    """`accept`, and the `accept` of the `baseline` file, as one set of ids; None if neither is given. `writing`:
    a baseline file not there yet counts as none."""
    if "accept" not in t.data and "baseline" not in t.data:
        return None
    ids = list(t.strings("accept", ()))
    name = t.get("baseline", "", str)
    if name and not (writing and not (base / name).exists()):
        path = base / name
        try:
            text = path.read_text(encoding="utf-8")
            data = tomllib.loads(text)
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            t.fail("baseline", f"{name}: cannot read it as a baseline ({' '.join(str(e).split())})")
        own = Table(Context(str(path), Locator(text)), (), data, ("accept",))
        ids += own.strings("accept", ())
    try:
        return parse_ids(ids)
    except ValueError as e:
        t.fail("baseline" if name and "accept" not in t.data else "accept", str(e))


def _overrides(t: Table) -> dict[str, dict]:
    """[expect.<scenario>]: the expectation fields a project sets for a scenario (the rest stay the scenario's)."""
    out = {}
    for name in t.data:
        e = t.table(name, ("hour_drift", "report_drift", "representation_error", "reproduced"))
        fields = {}
        for key, allowed in (("hour_drift", DRIFT), ("report_drift", DRIFT), ("representation_error", REPRESENTATION)):
            if key in e.data:
                fields[key] = e.choice(key, "", allowed)
        if "reproduced" in e.data:
            fields["reproduced"] = e.get("reproduced", False, bool)
        out[name] = fields
    return out
