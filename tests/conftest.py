"""Fixtures: one server per PostgreSQL version for the session, a migrated template, a fresh database per test."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import pytest

from rollup.database import Database
from rollup.migrations import Runner, Target
from rollup.pipeline import Pipeline
from rollup.servers import start_server

# A moment far from the wall clock, so a test that passes cannot be reading real time.
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TEMPLATE_AT = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)

# The zero-setup embedded server (PostgreSQL 18) and the machine's own (PostgreSQL 15).
BACKENDS = [pytest.param("embedded", id="pg18"), pytest.param("local", id="pg15")]


def pytest_collection_modifyitems(config, items):
    """Tests marked `one_server` check the bench's own machinery (capacity timing against synthetic targets, the
    stateful search, a generated fault's reach); what they check does not depend on the server's version, and
    the target's behaviour under them is covered on both servers elsewhere, so the default run takes them on the
    embedded server only."""
    keep, drop = [], []
    probes = "probe" in (config.getoption("markexpr") or "")  # opt-in: `-m probe` (docs/testing.md)
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        one = item.get_closest_marker("one_server") and params.get("server") == "local"
        (drop if one or item.get_closest_marker("probe") and not probes else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session", params=BACKENDS)
def server(request):
    if request.param == "local" and not shutil.which("initdb"):
        pytest.skip("no local PostgreSQL: initdb is not on PATH")
    with start_server(request.param) as srv:
        yield srv


def migrated_template(server, target: str, at=TEMPLATE_AT) -> Database:
    """A database migrated all the way on `target`, ready to be copied (CREATE DATABASE … TEMPLATE)."""
    db = Database(server, at)
    Runner(db, Target.resolve(target)).up()
    db.clock.close()  # a template must have no open sessions
    return db


@pytest.fixture(scope="session")
def reference_template(server):
    """A database migrated through 104 on the reference target, copied for each test."""
    db = migrated_template(server, "reference")
    yield db.name
    db.drop()


@pytest.fixture(scope="session")
def hardened_template(server):
    """A database migrated through the last hardened migration, copied for each test."""
    db = migrated_template(server, "hardened")
    yield db.name
    db.drop()


@pytest.fixture
def db(server, reference_template):
    with Database(server, START, template=reference_template) as database:
        yield database


@pytest.fixture
def empty_db(server):
    with Database(server, START) as database:
        yield database


@pytest.fixture
def pipeline(db):
    p = Pipeline(db)
    yield p
    p.close()


@pytest.fixture
def conn(db):
    with db.connect() as c:
        yield c
