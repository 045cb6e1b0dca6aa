"""The capacity preload: what it leaves is the target's schema exactly (indexes and constraints rebuilt after the
data), its checks fire, and an upgraded template is the base's history under the extended target."""

from __future__ import annotations

import psycopg
import pytest

from bench.capacity.lane import Lane
from bench.capacity.spec import loads
from bench.capacity.sweeps import full_rebuild_ms
from bench.capacity.world import START, bulk_fill, extends, prepare, upgrade, verify
from rollup.database import Database
from rollup.migrations import Runner, Target

SPEC = loads('[capacity]\nname = "w"\nseed = 5\n[history]\nrows = [2000]\ndays = 2\n'
             '[tenants]\nworkspaces = 2\nruntimes = 2\nagents = 2\nprojects = 1\nissues = 3\n', "w.toml")
TABLES = "('task_usage'::regclass, 'agent_task_queue'::regclass, 'task_usage_hourly'::regclass)"
SCHEMA = f"""SELECT 'index ' || indexrelid::regclass::text || ': ' || pg_get_indexdef(indexrelid) FROM pg_index
              WHERE indrelid IN {TABLES}
             UNION ALL
             SELECT 'constraint ' || conname || ': ' || pg_get_constraintdef(oid) FROM pg_constraint
              WHERE conrelid IN {TABLES}
             ORDER BY 1"""
KEY = "bucket_hour, workspace_id, runtime_id, agent_id, project_id, provider, model"
ROLLUP = (f"SELECT count(*), md5(string_agg(row({KEY}, input_tokens, output_tokens, cache_read_tokens,"
          f" cache_write_tokens, task_count, event_count)::text, ',' ORDER BY {KEY})) FROM task_usage_hourly")


def schema(db: Database) -> list[str]:
    with db.connect() as conn:
        return [r[0] for r in conn.execute(SCHEMA)]


@pytest.mark.parametrize("target", ["reference", "hardened"])
def test_preload_leaves_the_targets_own_indexes_and_constraints(server, target):
    fresh = Database(server, START)
    try:
        Runner(fresh, Target.resolve(target)).up()
        expected = schema(fresh)
    finally:
        fresh.drop()
    db, world = prepare(server, Target.resolve(target), SPEC, 2000)
    try:
        assert schema(db) == expected
        assert len(expected) >= 11  # the comparison compared something: the rollup's 5 included
        assert "rollup per-hour sums equal" in world.verified, world.verified
    finally:
        db.drop()


def test_verify_fires_on_a_raw_difference_and_on_a_rollup_difference(server):
    db, world = prepare(server, Target.resolve("reference"), SPEC, 2000)
    try:
        with db.connect() as conn:
            conn.execute("UPDATE task_usage_hourly SET input_tokens = input_tokens + 1"
                         " WHERE ctid = (SELECT min(ctid) FROM task_usage_hourly)")
        assert "rollup differs in 1 hour(s)" in verify(db, world)
        with db.connect() as conn:
            conn.execute("DELETE FROM task_usage WHERE ctid = (SELECT min(ctid) FROM task_usage)")
        with pytest.raises(RuntimeError, match="raw per-hour sums differ"):
            verify(db, world)
    finally:
        db.drop()


def test_an_extending_target_is_made_by_migrating_a_copy_of_the_base(server):
    ref, hard = Target.resolve("reference"), Target.resolve("hardened")
    assert extends(ref, hard) and not extends(hard, ref) and not extends(ref, ref)
    base, world = prepare(server, ref, SPEC, 2000)
    try:
        db, upgraded = upgrade(server, base.name, world, hard)
        try:
            with db.connect() as conn:
                versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
                quarters = conn.execute("SELECT sum(event_count) FROM task_usage_quarter_hourly").fetchone()[0]
            assert versions == [m.version for m in hard.migrations()]
            assert quarters == world.usage.height  # the extension's own backfill saw the whole history
            assert "rollup per-hour sums equal" in upgraded.verified
            assert upgraded.end >= world.end and upgraded.usage is world.usage
        finally:
            db.drop()
    finally:
        base.drop()


def test_a_file_copy_clone_holds_the_template_and_writes_next_to_no_wal(server, reference_template):
    """Capacity lanes clone gigabyte templates: copied as files, the clone holds the same rows without writing
    the template through the WAL, which the default strategy does (measured side by side, so the check fires)."""
    with Database(server, START, template=reference_template) as src:
        with src.connect() as conn:
            conn.execute("CREATE TABLE ballast AS SELECT g, repeat('x', 200) AS pad FROM generate_series(1, 20000) g")
        src.clock.close()

        def clone_wal(file_copy: bool) -> tuple[int, int]:
            with psycopg.connect(server.admin_conninfo, autocommit=True) as admin:
                before = admin.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
                with Database(server, START, template=src.name, file_copy=file_copy) as copy:
                    with copy.connect() as conn:
                        rows = conn.execute("SELECT count(*) FROM ballast").fetchone()[0]
                    wal = admin.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", (before,)).fetchone()[0]
            return rows, int(wal)

        (rows_logged, wal_logged), (rows_copied, wal_copied) = clone_wal(False), clone_wal(True)
    assert rows_logged == rows_copied == 20000
    assert wal_logged > 4_000_000  # the ~5 MB table and the catalogs, page by page
    assert wal_copied < wal_logged / 10


def test_the_full_rebuild_recomputes_the_rollup_and_leaves_the_lane_as_it_was(server):
    """The crossover's full side: the bulk fill (indexes dropped, rows inserted, indexes rebuilt) yields the rows
    the target's ticks maintain, and the timed rebuild is rolled back, schema included."""
    db, world = prepare(server, Target.resolve("reference"), SPEC, 2000)
    try:
        with Lane(server, db.name, world, SPEC.seed) as lane:
            with lane.db.connect() as conn:
                rows, digest = conn.execute(ROLLUP).fetchone()
            shape = schema(lane.db)
            assert rows > 100
            with lane.db.connect(autocommit=False) as conn:
                conn.execute("TRUNCATE task_usage_hourly")
                assert conn.execute(ROLLUP).fetchone()[0] == 0  # the comparison below can fail
                bulk_fill(conn)
                assert conn.execute(ROLLUP).fetchone() == (rows, digest)
                conn.rollback()
            assert full_rebuild_ms(lane) > 0
            with lane.db.connect() as conn:
                assert conn.execute(ROLLUP).fetchone() == (rows, digest)
            assert schema(lane.db) == shape
    finally:
        db.drop()
