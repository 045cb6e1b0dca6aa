"""The pytest plugin (bench/cli/pytest_plugin.py) as a team would use it, in a pytest run of its own (pytester): a
migration applied, a tick under simulated time, a scenario's verdict, and a failure that says how to replay it."""

from __future__ import annotations

import shutil

from rollup.migrations import MIGRATIONS_ROOT
from rollup.readside import FILES

pytest_plugins = ["pytester"]

USER_TESTS = '''
from datetime import datetime, timedelta, timezone

import pytest

T0 = datetime(2026, 3, 2, 10, tzinfo=timezone.utc)


@pytest.mark.rollup_target("db/reference,db/hardened")
def test_migrations_apply(rollup_db):
    with rollup_db.connect() as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
    assert versions[0] == "000_base_schema" and versions[-1].startswith("114_")


@pytest.mark.rollup_target("hardened")
def test_a_tick_under_simulated_time(rollup_db_factory, rollup_pipeline, rollup_clock):
    db = rollup_pipeline.db
    rollup_clock.set(T0 + timedelta(hours=2))
    assert rollup_pipeline.tick(at=T0 + timedelta(hours=2)) >= 0
    assert rollup_pipeline.state().watermark_at > T0
    assert rollup_db_factory("reference").name != db.name  # another target, side by side


STEPS = [
    {"do": "task", "at": "10m", "name": "t1", "agent": "A.a1", "issue": "A.i1"},
    {"do": "usage", "at": "11m", "task": "t1", "input": 100},
    {"do": "tick", "at": "2h"},
    {"do": "delete_agent", "at": "2h1m", "agent": "A.a1"},
    {"do": "ticks", "at": "2h10m", "until": "2h20m"},
]


@pytest.mark.rollup_target("hardened")
def test_a_scenario_verdict(rollup_run):
    v = rollup_run(STEPS, duration="3h")
    assert v["ok"] and v["operations"]["by_kind"]["delete_agent"] == 1


@pytest.mark.rollup_target("reference", read_side="queries/usage.sql")
def test_its_own_read_side(rollup_target):
    assert rollup_target.read_side.endswith("/queries/usage.sql") and not rollup_target.reads.exact


@pytest.mark.rollup_target("reference")
def test_an_agent_delete_converges(rollup_run):
    rollup_run(STEPS, duration="3h")  # B1 on the reference: fails, saying how to replay it
'''


def test_the_plugin_in_a_users_suite(pytester):
    for name in ("reference", "hardened"):
        shutil.copytree(MIGRATIONS_ROOT / name, pytester.path / "db" / name)
    (pytester.path / "queries").mkdir()  # a read side of its own: upstream's queries, under the default names
    shutil.copy(FILES / "faithful.sql", pytester.path / "queries" / "usage.sql")
    pytester.makepyfile(test_rollup=USER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider", "-n", "0", "-rf")
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines([
        "*test_an_agent_delete_converges*",
        "*steps (seed 1) on reference: hour-grain drift*",
        "*replay: rollup-bench replay *steps-reference-seed1.history.jsonl --target reference*",
    ])


def test_the_plugin_registers_its_options_and_marker(pytester):
    result = pytester.runpytest_subprocess("--help")
    result.stdout.fnmatch_lines(["*--rollup-pg*", "*--rollup-dsn*"])
    markers = pytester.runpytest_subprocess("--markers")
    markers.stdout.fnmatch_lines(["*rollup_target(target, read_side=None)*"])
