"""The mutant generator (rollup/mutation) on small SQL snippets: each operator edits the right tokens, the diff is
the edit, ids are stable, plpgsql bodies are mutated in place, and edits that do not parse are dropped."""

from __future__ import annotations

import pytest

from rollup.migrations import Target
from rollup.mutation import OPERATOR_NAMES, generate, sample
from rollup.mutation.tokens import parses

FUNC = """CREATE FUNCTION f(p_from timestamptz, p_to timestamptz) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v bigint;
BEGIN
    IF p_from >= p_to THEN
        RETURN 0;
    END IF;
    PERFORM pg_advisory_xact_lock(42);
    DELETE FROM q WHERE q.at < p_to AND q.k IS NOT DISTINCT FROM 1;
    RETURN greatest(v, 0);
END;
$$;
"""


def edits(sql: str, op: str) -> list[str]:
    """Each mutant of `op` as the mutated text."""
    return [m.apply(sql) for m in generate("900_x.up.sql", sql, {op})[0]]


def test_comparisons_swap_and_a_set_assignment_is_dropped_as_malformed():
    sql = "UPDATE t SET a = 1 WHERE b < 2 AND c >= 3;\n"
    out = edits(sql, "cmp")
    assert out == ["UPDATE t SET a = 1 WHERE b <= 2 AND c >= 3;\n", "UPDATE t SET a = 1 WHERE b < 2 AND c > 3;\n"]
    assert generate("900_x.up.sql", sql, {"cmp"})[1] == 1  # SET a <> 1 does not parse


def test_null_safety_and_its_negation():
    sql = "SELECT 1 FROM t WHERE a IS DISTINCT FROM b;\n"
    assert edits(sql, "null-safe") == ["SELECT 1 FROM t WHERE a <> b;\n"]
    assert edits(sql, "distinct-negate") == ["SELECT 1 FROM t WHERE a IS NOT DISTINCT FROM b;\n"]


def test_boolean_integer_and_interval_constants():
    assert edits("SELECT true;\n", "bool-flip") == ["SELECT false;\n"]
    sql = "CREATE TABLE t (a varchar(64), b numeric(20, 2) DEFAULT 5);\n"
    assert edits(sql, "int-up") == ["CREATE TABLE t (a varchar(64), b numeric(20, 2) DEFAULT 6);\n"]
    assert edits("SELECT now() - INTERVAL '5 minutes', '2 days'::interval;\n", "interval-down") == [
        "SELECT now() - INTERVAL '4 minutes', '2 days'::interval;\n",
        "SELECT now() - INTERVAL '5 minutes', '1 days'::interval;\n"]


def test_distinct_union_greatest_coalesce():
    assert edits("SELECT DISTINCT a FROM t;\n", "drop-distinct") == ["SELECT a FROM t;\n"]
    assert edits("SELECT count(DISTINCT a) FROM t WHERE a IS DISTINCT FROM b;\n", "drop-distinct") == [
        "SELECT count(a) FROM t WHERE a IS DISTINCT FROM b;\n"]
    assert edits("SELECT 1 UNION SELECT 2;\n", "union-all") == ["SELECT 1 UNION ALL SELECT 2;\n"]
    assert edits("SELECT GREATEST(a, b) FROM t;\n", "greatest-least") == ["SELECT LEAST(a, b) FROM t;\n"]
    assert edits("SELECT coalesce(a, b, 0) FROM t;\n", "coalesce-arg") == [
        "SELECT coalesce(b, 0) FROM t;\n", "SELECT coalesce(a, 0) FROM t;\n", "SELECT coalesce(a, b) FROM t;\n"]


def test_each_conjunct_removed_once_and_between_left_whole():
    sql = "SELECT 1 FROM t JOIN u ON u.id = t.id AND u.k = t.k WHERE a BETWEEN 1 AND 2 AND b IS NOT NULL;\n"
    assert edits(sql, "drop-conjunct") == [
        "SELECT 1 FROM t JOIN u ON u.k = t.k WHERE a BETWEEN 1 AND 2 AND b IS NOT NULL;\n",
        "SELECT 1 FROM t JOIN u ON u.id = t.id WHERE a BETWEEN 1 AND 2 AND b IS NOT NULL;\n",
        "SELECT 1 FROM t JOIN u ON u.id = t.id AND u.k = t.k WHERE b IS NOT NULL;\n",
        "SELECT 1 FROM t JOIN u ON u.id = t.id AND u.k = t.k WHERE a BETWEEN 1 AND 2;\n"]


TRIGGER = "CREATE TRIGGER tr AFTER INSERT OR UPDATE OF a, b ON t FOR EACH ROW EXECUTE FUNCTION f();\n"


def test_trigger_operators():
    assert edits(TRIGGER, "trigger-timing") == [TRIGGER.replace("AFTER", "BEFORE")]
    assert edits(TRIGGER, "trigger-level") == [TRIGGER.replace("ROW", "STATEMENT")]
    assert edits(TRIGGER, "trigger-event") == [TRIGGER.replace("INSERT OR ", ""),
                                               TRIGGER.replace(" OR UPDATE OF a, b", "")]
    assert edits(TRIGGER, "update-of-column") == [TRIGGER.replace("a, b", "b"), TRIGGER.replace("a, b", "a")]
    with_when = TRIGGER.replace(" EXECUTE", " WHEN (NEW.a > 0) EXECUTE")
    assert edits(with_when, "trigger-level") == []  # a WHEN reads the row: a statement trigger cannot have it


def test_plpgsql_bodies_are_mutated_in_place():
    lock = edits(FUNC, "advisory-lock")
    assert lock == [FUNC.replace("pg_advisory_xact_lock", "pg_advisory_lock")]
    assert FUNC.replace("p_from >= p_to", "p_from > p_to") in edits(FUNC, "cmp")
    assert FUNC.replace("greatest(v, 0)", "least(v, 0)") in edits(FUNC, "greatest-least")
    assert FUNC.replace(" AND q.k IS NOT DISTINCT FROM 1", "") in edits(FUNC, "drop-conjunct")


def test_function_statements_removed_one_at_a_time_compound_ones_whole():
    out = edits(FUNC, "drop-statement")
    assert FUNC.replace("    PERFORM pg_advisory_xact_lock(42);\n", "") in out
    assert FUNC.replace("    IF p_from >= p_to THEN\n        RETURN 0;\n    END IF;\n", "") in out
    assert FUNC.replace("        RETURN 0;\n", "") in out  # inside the IF
    assert all(parses(o) for o in out)
    assert len(out) == 6  # IF, its RETURN, PERFORM, DELETE, RETURN; and the CREATE FUNCTION itself


def test_ids_are_stable_readable_and_the_diff_is_the_edit():
    a, _ = generate("110_window.up.sql", FUNC)
    b, _ = generate("110_window.up.sql", FUNC)
    assert [m.id for m in a] == [m.id for m in b] and len({m.id for m in a}) == len(a)
    m = next(m for m in a if m.operator == "cmp" and "p_from" in FUNC[m.start - 8:m.start])
    assert m.id == "110:5:15:cmp"
    assert m.diff(FUNC).splitlines()[:2] == ["--- a/110_window.up.sql", "+++ b/110_window.up.sql"]
    changed = [line for line in m.diff(FUNC).splitlines()[2:] if line[:1] in "+-"]
    assert changed == ["-    IF p_from >= p_to THEN", "+    IF p_from > p_to THEN"]


def test_every_mutant_of_the_hardened_chain_parses_and_every_operator_fires():
    seen = set()
    for mig in Target.resolve("hardened").migrations():
        text = mig.up.read_text()
        found, _ = generate(mig.up.name, text)
        assert all(parses(m.apply(text)) for m in found)
        seen |= {m.operator for m in found}
    assert seen == set(OPERATOR_NAMES)


def test_sample_is_seeded_and_keeps_order():
    found, _ = generate("900_x.up.sql", FUNC)
    assert sample(found, 3, 7) == sample(found, 3, 7)
    picked = sample(found, 3, 7)
    assert len(picked) == 3 and picked == sorted(picked, key=found.index)


@pytest.mark.parametrize("bad", ["SELECT (;\n", FUNC.replace("END IF;", "END;")])
def test_parses_refuses_what_postgresql_refuses(bad):
    assert not parses(bad)
