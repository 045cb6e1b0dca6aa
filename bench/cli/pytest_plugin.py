"""The bench from a team's own pytest suite (installed with the package: a `pytest11` entry point).

Fixtures, all named `rollup_*`:
- `rollup_server` (session): a PostgreSQL server — `--rollup-pg embedded|local|dsn|auto` (default embedded, or
  the project's `server`; auto chooses for the project's target), `--rollup-dsn URL`;
- `rollup_target`: the target of a test — `@pytest.mark.rollup_target("db/migrations,db/fixes", read_side=…)`
  (faithful, hardened, or a .sql or .toml read-side file, relative to the test's file), else the project's
  ([tool.rollup-bench]), else `reference`;
- `rollup_db_factory`: `rollup_db_factory(target=None, at=None)` gives a fresh database migrated to a target at a
  simulated instant, cloned from a template migrated once per session; `rollup_db` is one for the test's target;
- `rollup_clock`: `rollup_db`'s simulated clock (`.set(datetime)`, `.now`), which the target's `now()` reads;
- `rollup_pipeline`: the target's pipeline on `rollup_db` — `.tick(at=…)`, `.state()`;
- `rollup_run`: runs a scenario file, or a list of steps (dicts as in a scenario's [[step]] tables), on the
  test's target and returns the verdict; unless `check=False`, a verdict that is not ok fails the test with its
  failed checks and the command that replays it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

DEFAULT_AT = datetime(2026, 3, 2, tzinfo=UTC)


def pytest_addoption(parser) -> None:
    group = parser.getgroup("rollup-bench")
    group.addoption("--rollup-pg", default=None, help="server for rollup_* fixtures: embedded, local, dsn or auto")
    group.addoption("--rollup-dsn", default=None, help="connection URL with --rollup-pg dsn")


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "rollup_target(target, read_side=None): the target rollup_* fixtures use "
                                       "(reference, hardened, or migration directories joined by commas)")


@pytest.fixture(scope="session")
def _rollup_project(pytestconfig):
    from bench.orchestrate import project

    return project.load(project.find(Path(pytestconfig.rootpath)))


@pytest.fixture(scope="session")
def rollup_server(pytestconfig, _rollup_project):
    from bench.orchestrate.request import ServerSpec

    backend = pytestconfig.getoption("--rollup-pg") or _rollup_project.server or "embedded"
    dsn = pytestconfig.getoption("--rollup-dsn") or _rollup_project.dsn
    # auto: chosen for the project's target, one server serves the session
    spec, _ = ServerSpec(backend, dsn, _rollup_project.pg_bin).chosen((_rollup_project.target or "reference",))
    with spec.start() as server:
        yield server


@pytest.fixture(scope="session")
def _rollup_templates(rollup_server):
    from rollup.migrations import Templates

    templates = Templates(rollup_server)
    yield templates
    templates.drop()


@pytest.fixture
def rollup_target(request, _rollup_project):
    from rollup.migrations import Target
    from rollup.readside import BUILT_IN

    marker = request.node.get_closest_marker("rollup_target")
    if marker is not None:
        spec = marker.args[0] if marker.args else marker.kwargs.get("target", "reference")
        side = marker.kwargs.get("read_side")
        here = Path(request.fspath).parent  # directories and files: relative to the test's file, like fixtures' data
        if "," in spec or "/" in spec:
            spec = ",".join(str((here / d).resolve()) for d in spec.split(","))
        if side is not None and side not in BUILT_IN:
            side = str((here / side).resolve())
        return Target.resolve(spec, side)
    return Target.resolve(_rollup_project.target or "reference", _rollup_project.read_side)


@pytest.fixture
def rollup_db_factory(_rollup_templates, rollup_target):
    made = []

    def make(target=None, at: datetime | None = None):
        from rollup.migrations import Target

        tgt = Target.resolve(target) if isinstance(target, str) else target or rollup_target
        db = _rollup_templates.fresh(tgt, at or DEFAULT_AT)
        made.append(db)
        return db

    yield make
    for db in made:
        db.drop()


@pytest.fixture
def rollup_db(rollup_db_factory):
    return rollup_db_factory()


@pytest.fixture
def rollup_clock(rollup_db):
    return rollup_db.clock


@pytest.fixture
def rollup_pipeline(rollup_db):
    from rollup.pipeline import Pipeline

    pipeline = Pipeline(rollup_db)
    yield pipeline
    pipeline.close()


@pytest.fixture
def rollup_run(rollup_server, _rollup_templates, rollup_target, tmp_path):
    def run(scenario: str | Path | list[dict], *, seed: int | None = None, check: bool = True,
            start: datetime = DEFAULT_AT, duration: str = "1d", extra: str = ""):
        """The verdict (bench/judge/record.Verdict; v["ok"] reads it as the JSON would). `extra`: more of a
        scenario's TOML for a list of steps (its [expect.*] or [operations] tables)."""
        from bench.orchestrate.execute import run_scenario
        from bench.orchestrate.request import RunRequest, ScenarioText

        if isinstance(scenario, list):
            text = ScenarioText(steps_toml(scenario, start, duration) + extra, str(tmp_path / "steps.toml"))
            Path(text.source).write_text(text.text)
        else:
            text = ScenarioText.read(Path(scenario))
        sc = text.load(seed)
        spec = ",".join(str(d) for d in rollup_target.dirs) if rollup_target.name not in ("reference", "hardened") \
            else rollup_target.name
        req = RunRequest(text, spec, seed, read_side=rollup_target.side, report_dir=tmp_path / "rollup-bench")
        v = run_scenario(rollup_server, req, templates=_rollup_templates)
        if check and not v.ok:
            failed = "; ".join(f"{c['name']}: {c['observed']}" for c in v.failed_checks())
            pytest.fail(f"{sc.name} (seed {sc.seed}) on {rollup_target.name}: {failed}\nreplay: {v.replay}\n"
                        f"report: {v.report}", pytrace=False)
        return v

    return run


def steps_toml(steps: list[dict], start: datetime, duration: str) -> str:
    """A scripted scenario's text from step dicts ({"do": "usage", "at": "11m", "task": "t1", …})."""
    def value(v) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v)
        return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = ["[scenario]", 'name = "steps"', f"start = {start.astimezone(UTC).isoformat().replace('+00:00', 'Z')}",
             f'duration = "{duration}"']
    for step in steps:
        lines += ["", "[[step]]", *(f"{k} = {value(v)}" for k, v in step.items())]
    return "\n".join(lines) + "\n"
