"""The migration runner (upstream's semantics), targets, and the reference schema going up, down and up."""

from __future__ import annotations

from pathlib import Path

import pytest

from rollup import clock
from rollup.migrations import MigrationError, Runner, Target, TargetError

VERSIONS = ["000_base_schema", "100_user_timezone", "101_task_usage_hourly", "102_task_usage_hourly_pipeline",
            "103_drop_legacy_daily_rollups", "104_drop_runtime_timezone"]


def objects(db) -> list[str]:
    """Tables, functions and triggers in public, other than the runner's own table."""
    with db.connect() as c:
        rows = c.execute(
            "SELECT 'table ' || relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'"
            " AND relname <> 'schema_migrations'"
            " UNION ALL SELECT 'function ' || proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace"
            " UNION ALL SELECT 'trigger ' || tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1"
        ).fetchall()
    return [r[0] for r in rows]


def columns(db, table: str) -> set[str]:
    with db.connect() as c:
        return {r[0] for r in c.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
            (table,))}


def test_reference_up_down_up(empty_db):
    runner = Runner(empty_db, Target.resolve("reference"))
    assert runner.up() == VERSIONS
    after_up = objects(empty_db)
    assert "table task_usage_hourly" in after_up and "table task_usage_daily" not in after_up
    assert "timezone" in columns(empty_db, '"user"') and "timezone" not in columns(empty_db, "agent_runtime")
    assert runner.down() == VERSIONS[::-1]
    assert objects(empty_db) == [] and runner.applied() == []
    assert runner.up() == VERSIONS
    assert objects(empty_db) == after_up


def test_up_to_and_down_to_a_version(empty_db):
    runner = Runner(empty_db, Target.resolve("reference"))
    assert runner.up("102") == VERSIONS[:4]
    assert "table task_usage_daily" in objects(empty_db)  # the legacy rollup is still there before 103
    assert runner.up() == VERSIONS[4:]
    assert runner.down("101") == ["104_drop_runtime_timezone", "103_drop_legacy_daily_rollups",
                                  "102_task_usage_hourly_pipeline"]
    assert "timezone" in columns(empty_db, "agent_runtime") and "table task_usage_daily" in objects(empty_db)
    assert runner.applied() == VERSIONS[:3]


def _write(d: Path, files: dict[str, str]) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (d / name).write_text(text)
    return d


def test_first_failure_stops_the_run_naming_file_and_position(empty_db, tmp_path):
    d = _write(tmp_path / "m", {
        "001_ok.up.sql": "CREATE TABLE a (id int);",
        "002_bad.up.sql": "CREATE TABLE b (id int);\n\nSELECT * FROM\n  no_such_table;\n",
        "003_never.up.sql": "CREATE TABLE c (id int);",
    })
    runner = Runner(empty_db, Target.resolve(str(d)), hooks={})
    with pytest.raises(MigrationError) as info:
        runner.up()
    e = info.value
    assert e.path.name == "002_bad.up.sql" and (e.line, e.column) == (4, 3) and e.sqlstate == "42P01"
    assert str(e).startswith("002_bad.up.sql:4:3: relation \"no_such_table\" does not exist")
    assert runner.applied() == ["001_ok"]
    with empty_db.connect() as c:  # the failed file was one implicit transaction: b is not there either
        assert c.execute("SELECT to_regclass('b'), to_regclass('c'), to_regclass('a')::text").fetchone() == (None, None, "a")


def test_files_sort_as_plain_strings_and_directories_merge_by_name(empty_db, tmp_path):
    base = _write(tmp_path / "base", {"10_b.up.sql": "CREATE TABLE log (n text);",
                                      "9_a.up.sql": "INSERT INTO log VALUES ('9_a');",
                                      "20_c.up.sql": "INSERT INTO log VALUES ('base 20_c');"})
    overlay = _write(tmp_path / "overlay", {"20_c.up.sql": "INSERT INTO log VALUES ('overlay 20_c');"})
    target = Target.resolve(f"{base},{overlay}")
    assert [m.version for m in target.migrations()] == ["10_b", "20_c", "9_a"]  # "9" sorts after "2"
    Runner(empty_db, target, hooks={}).up()
    with empty_db.connect() as c:
        assert [r[0] for r in c.execute("SELECT n FROM log")] == ["overlay 20_c", "9_a"]


def test_hook_runs_before_its_version(empty_db, tmp_path):
    d = _write(tmp_path / "m", {"1_a.up.sql": "CREATE TABLE t (n int);", "2_b.up.sql": "INSERT INTO t VALUES (2);"})
    seen = []

    def hook(db):
        with db.connect() as c:
            seen.append(c.execute("SELECT count(*) FROM t").fetchone()[0])
            c.execute("INSERT INTO t VALUES (1)")

    Runner(empty_db, Target.resolve(str(d)), hooks={"2": hook}).up()
    with empty_db.connect() as c:
        assert [r[0] for r in c.execute("SELECT n FROM t")] == [1, 2]
    assert seen == [0]


def test_bad_targets_are_refused(tmp_path):
    with pytest.raises(TargetError, match="is not a directory"):
        Target.resolve(str(tmp_path / "missing"))
    with pytest.raises(TargetError, match="no \\*.up.sql files"):
        Target.resolve(str(tmp_path))
    with pytest.raises(TargetError, match="has no migration '999'"):
        Target.resolve("reference").find("999")


def test_down_without_down_file_is_refused(empty_db, tmp_path):
    d = _write(tmp_path / "m", {"1_a.up.sql": "CREATE TABLE t (n int);"})
    runner = Runner(empty_db, Target.resolve(str(d)), hooks={})
    runner.up()
    with pytest.raises(TargetError, match="no down migration for 1_a"):
        runner.down()


def test_clock_scan_names_unsteerable_clocks(tmp_path):
    d = _write(tmp_path / "m", {"1_a.up.sql": "-- CURRENT_TIMESTAMP in a comment is fine\n"
                                              "CREATE TABLE t (a timestamptz DEFAULT CURRENT_TIMESTAMP,\n"
                                              "  b timestamptz DEFAULT clock_timestamp(), c timestamptz DEFAULT now());\n"
                                              "CREATE FUNCTION f() RETURNS int LANGUAGE sql SET search_path = x AS 'select 1';\n"})
    found = [str(w) for w in clock.scan(Target.resolve(str(d)).sql_files())]
    assert found == ["1_a.up.sql:2: CURRENT_TIMESTAMP does not follow the simulated clock",
                     "1_a.up.sql:3: clock_timestamp does not follow the simulated clock",
                     "1_a.up.sql:4: SET search_path may hide the simulated now()"]
    assert clock.scan(Target.resolve("reference").sql_files()) == []


def test_migrate_command_says_what_it_applied_and_where(tmp_path):
    from typer.testing import CliRunner

    from bench.cli.main import app

    cli = CliRunner()
    result = cli.invoke(app, ["migrate", "--target", "reference", "--at", "2026-03-01T12:00Z"])
    assert result.exit_code == 0, result.output
    assert "embedded PostgreSQL 18" in result.output and "up  104_drop_runtime_timezone" in result.output
    assert "hook  103_drop_legacy_daily_rollups" in result.output
    result = cli.invoke(app, ["migrate", "--target", "reference", "--to", "999"])
    assert result.exit_code == 2 and "has no migration '999'" in result.output
    bad = _write(tmp_path / "bad", {"1_a.up.sql": "CREATE TABLE t (;"})
    result = cli.invoke(app, ["migrate", "--target", str(bad)])
    assert result.exit_code == 1 and "migration failed: 1_a.up.sql:1:" in result.output
