"""Overlay targets (a mutant: the chain with one file replaced) migrate from a shared template of the chain's
unchanged prefix (rollup.migrations.Templates): the prefix is made once, each overlay applies its file and those
after it, and only the newest overlay templates are kept."""

from __future__ import annotations

import psycopg
import pytest

from rollup.migrations import Target, Templates
from tests.conftest import TEMPLATE_AT

WINDOW = "110_window_xid_discovery_single_drain.up.sql"


def overlay(tmp_path, name: str, old: str, new: str) -> Target:
    base = Target.resolve("hardened")
    path = next(m.up for m in base.migrations() if m.up.name == WINDOW)
    d = tmp_path / name
    d.mkdir()
    (d / WINDOW).write_text(path.read_text().replace(old, new, 1))
    return Target.resolve(",".join(map(str, base.dirs)) + f",{d}", "hardened")


def databases(server) -> set[str]:
    with psycopg.connect(server.admin_conninfo) as c:
        return {r[0] for r in c.execute("SELECT datname FROM pg_database")}


@pytest.mark.one_server
def test_overlays_share_the_prefix_apply_their_file_and_are_evicted(server, tmp_path):
    a = overlay(tmp_path, "a", "IF p_from >= p_to THEN", "IF p_from > p_to THEN")
    b = overlay(tmp_path, "b", "WHERE d.enqueued_at < p_to", "WHERE d.enqueued_at <= p_to")
    templates = Templates(server, overlays=1)
    try:
        with templates.fresh(a, TEMPLATE_AT) as db, db.connect() as c:
            src = c.execute("SELECT prosrc FROM pg_proc WHERE proname = 'rollup_task_usage_hourly_window'").fetchone()
            versions = [r[0] for r in c.execute("SELECT version FROM schema_migrations ORDER BY 1")]
        assert "IF p_from > p_to THEN" in src[0]
        assert versions[-1].startswith("114_") and len(versions) == len(a.migrations())
        prefix = [k for k in templates.made if k[1] is not None]
        assert [k[1] for k in prefix] == ["109_task_usage_quarter_hourly"]  # the chain just before 110
        first = templates.made[(a.dirs, None)]
        with templates.fresh(b, TEMPLATE_AT) as db, db.connect() as c:
            src = c.execute("SELECT prosrc FROM pg_proc WHERE proname = 'rollup_task_usage_hourly_window'").fetchone()
        assert "d.enqueued_at <= p_to" in src[0] and "IF p_from >= p_to THEN" in src[0]
        assert [k for k in templates.made if k[1] is not None] == prefix  # made once, shared
        assert (a.dirs, None) not in templates.made and first not in databases(server)  # evicted
    finally:
        templates.drop()
