"""The reach analysis (rollup/mutation/reach.py) on small chains: a definition a later migration drops or replaces is
unreached unless something executes it at migration time in between — called by a statement, by a function such
a statement calls, or fired by a write to its table — and a run that stops the chain early reaches it."""

from __future__ import annotations

from rollup.migrations import Target
from rollup.mutation.reach import superseded

FIRST = """CREATE TABLE t (x int DEFAULT 0);
CREATE FUNCTION on_t() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.x := NEW.x + 1; RETURN NEW; END $$;
CREATE TRIGGER t_bump BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION on_t();
CREATE FUNCTION g(n int) RETURNS int LANGUAGE sql AS $$ SELECT n + 1 $$;
CREATE FUNCTION h() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
CREATE FUNCTION k() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN h(); END $$;
"""


def found(second: str, third: str = "SELECT 1;", upto: str | None = None) -> dict[str, tuple[str, str]]:
    chain = [("001_a.up.sql", FIRST), ("002_b.up.sql", second), ("003_c.up.sql", third)]
    return {x.what: (x.how, x.by) for x in superseded(chain, upto)["001_a.up.sql"]}


REPLACE = """CREATE OR REPLACE FUNCTION on_t() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
DROP FUNCTION g(int);
"""


def test_a_definition_dropped_or_replaced_later_with_nothing_running_it_is_unreached():
    assert found(REPLACE) == {"function on_t()": ("replaced", "002"), "function g(int4)": ("dropped", "002")}
    # a table dropped takes its triggers with it
    assert found("DROP TABLE t;") == {"table t": ("dropped", "002"), "trigger t_bump on t": ("dropped", "002")}


def test_what_runs_at_migration_time_in_between_stays_reached():
    # a write to t fires its trigger: on_t runs before 002 replaces it
    assert "function on_t()" not in found("INSERT INTO t VALUES (1);\n" + REPLACE)
    # h is called through k by a DO block before 003 drops it
    assert "function h()" in found("SELECT 1;", "DROP FUNCTION h();")
    assert "function h()" not in found("DO $$ BEGIN PERFORM k(); END $$;", "DROP FUNCTION h();")
    # another overload dropped leaves this one alone; a drop without arguments takes every overload
    assert "function g(int4)" not in found("DROP FUNCTION g(text);")
    assert "function g(int4)" in found("DROP FUNCTION g;")


def test_a_run_that_stops_the_chain_early_reaches_what_later_migrations_supersede():
    assert found(REPLACE, upto="001") == {}
    assert found("SELECT 1;", "DROP FUNCTION h();", upto="002") == {}


def test_the_hardened_chain_supersedes_reference_definitions_the_reference_keeps():
    def of(name: str) -> set[str]:
        chain = [(m.up.name, m.up.read_text()) for m in Target.resolve(name).migrations()]
        return {f"{f}: {x.what}" for f, xs in superseded(chain).items() for x in xs}

    reference, hardened = of("reference"), of("hardened")
    legacy = "000_base_schema.up.sql: function task_usage_daily_apply()"
    window = "102_task_usage_hourly_pipeline.up.sql: function rollup_task_usage_hourly_window(timestamptz, timestamptz)"
    assert legacy in reference and legacy in hardened  # 103 drops the legacy daily rollups
    assert window in hardened and window not in reference  # hardened's 110 drops it; the reference runs it
