"""Every measure a rollup table declares is judged (rollups.toml, rollup/measures.py).

The declarations and their errors; the oracle's measures on a hand-written history; a declared raw column drawn
from a stream of its own (a stream without it is the same as before) and written only where declared; and a
chain whose rollup keeps a cost (tests/targets/cost_measures) converging, while its mutant (cost_mutant: an
uncosted row's input tokens summed into its cost) fails on that measure alone.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from bench.orchestrate.execute import rejudge
from bench.drive import reads
from bench.drive.client import SINGLE, Client
from bench.drive.history import History, HistoryWriter, frame_from_ops
from bench.drive.loader import INSERT_USAGE, UPSERT, USAGE_COLUMNS
from bench.drive.runner import RunHooks, RunSpec, run
from bench.judge.checker import apply_diff, for_run
from bench.judge.oracle import hour_truth, usage_rows
from bench.judge.verdict import evaluate
from bench.workload.app import UPSERT_USAGE
from bench.workload.generator import generate
from bench.workload.scenario import loads
from rollup.measures import DEFAULT_MEASURES, Column, Measure
from rollup.migrations import HOURLY, MIGRATIONS_ROOT, Rollup, Target, TargetError
from tests.test_oracle import Story

TARGETS = Path(__file__).parent / "targets"
COST = f"{MIGRATIONS_ROOT / 'reference'},{TARGETS / 'cost_measures'}"
MUTANT = f"{COST},{TARGETS / 'cost_mutant'}"
EXTRA = ("cost_usd", "uncosted_input_tokens", "costed_events")
SMALL = """
[scenario]
name = "measures"
seed = 4
duration = "12h"
[tenants]
workspaces = 2
issues = 4
[rates]
tasks_per_hour = 5.0
[operations]
per_hour = 3.0
[pipeline]
check_every = "6h"
[zones]
view = ["UTC"]
"""


# ---------------------------------------------------------------- declarations


def test_nothing_declared_means_todays_six_measures():
    for name in ("reference", "hardened"):
        target = Target.resolve(name)
        assert target.usage_columns() == ()
        assert all(r.measures == DEFAULT_MEASURES for r in target.rollups())
    assert [m.name for m in DEFAULT_MEASURES] == reads.VALUES
    assert Target.resolve("reference").rollups() == [HOURLY]


def test_a_declared_column_and_measures_are_added_to_the_defaults():
    target = Target.resolve(COST)
    assert target.usage_columns() == (Column("cost_usd", "numeric", 6, 0.7, 0.25),)
    (hourly,) = target.rollups()
    assert (hourly.table, hourly.bucket, hourly.grain_minutes) == (HOURLY.table, HOURLY.bucket, 60)
    assert hourly.measures == (*DEFAULT_MEASURES, Measure("cost_usd", "sum", "cost_usd"),
                               Measure("uncosted_input_tokens", "sum", "input_tokens", "cost_usd IS NULL"),
                               Measure("costed_events", "count", "cost_usd"))


COLUMN = '[usage_columns.cost_usd]\ntype = "numeric"\n'
HOURLY_HEAD = '[[rollup]]\ntable = "task_usage_hourly"\n[rollup.measures]\n'


@pytest.mark.parametrize("text, message", [
    (HOURLY_HEAD + 'cost = { sum = "cost_usd" }\n', ":4: rollup[1].measures.cost: sum of 'cost_usd': expected one of"),
    (COLUMN + HOURLY_HEAD + 'x = { avg = "cost_usd" }\n', ":6: rollup[1].measures.x: expected one of sum, count"),
    (COLUMN + HOURLY_HEAD + 'x = { sum = "input_tokens", where = "created_at > 0" }\n',
     ":6: rollup[1].measures.x.where: 'created_at > 0' is no condition: it names created_at: a condition may name only"),
    (COLUMN + HOURLY_HEAD + 'x = { count = "*", where = "cost_usd IS NULL; DROP TABLE t" }\n',
     ":6: rollup[1].measures.x.where: 'cost_usd IS NULL; DROP TABLE t' is no condition: 2 statements"),
    (COLUMN + HOURLY_HEAD + 'x = { count = "*", where = "cost_usd IS" }\n',
     ":6: rollup[1].measures.x.where: 'cost_usd IS' is no condition: not one expression (a trailing column label)"),
    (HOURLY_HEAD + 'model = { count = "*" }\n', ":4: rollup[1].measures.model: a measure needs a plain SQL name"),
    ('[usage_columns.cost_usd]\ntype = "money"\n', ":2: usage_columns.cost_usd.type: expected one of numeric, bigint"),
    ('[usage_columns.input_tokens]\ntype = "bigint"\n', ":1: usage_columns.input_tokens: a column needs a plain"),
    ('[usage_columns.cost_usd]\ntype = "numeric"\nshare = 2\n', ":3: usage_columns.cost_usd.share: expected a number"),
    ('[[rollup]]\ntable = "task_usage_hourly"\ngrain = "15m"\n', "task_usage_hourly is bucketed by bucket_hour at 1h"),
])
def test_a_bad_declaration_is_one_line_naming_the_file_and_line(tmp_path, text, message):
    (tmp_path / "rollups.toml").write_text(text)
    with pytest.raises(TargetError) as err:  # said when the target is resolved, before any work
        Target.resolve(f"{MIGRATIONS_ROOT / 'reference'},{tmp_path}")
    assert str(err.value).startswith(str(tmp_path / "rollups.toml")) and message in str(err.value)
    assert "\n" not in str(err.value)


# ---------------------------------------------------------------- the oracle

CENT = Column("cost_usd", "numeric", 2)
MEASURES = (
    Measure("cost_usd", "sum", "cost_usd"),
    Measure("uncosted", "sum", "input_tokens", "cost_usd IS NULL"),
    Measure("costed", "count", "cost_usd"),
    Measure("big_rows", "count", "*", "input_tokens >= 10"),
    Measure("big_tasks", "count_distinct", "task_id", "input_tokens >= 10"),
    Measure("models", "count_distinct", "model"),
    Measure("pricey", "sum", "cost_usd", "cost_usd > 0.5"),
)


def test_the_oracle_computes_every_kind_of_measure_from_the_history():
    s = Story()
    s.task("t1")
    s.task("t2")
    s.add("usage", task_id="t1", provider="P", model="m", input=10, output=1, cache_read=0, cache_write=0,
          created_at=None, cost_usd="0.25")
    s.add("usage", task_id="t1", provider="P", model="m", input=12, output=1, cache_read=0, cache_write=0,
          created_at=None, cost_usd="0.75")  # a re-report overwrites the cost too
    s.add("usage", task_id="t2", provider="P", model="m", input=5, output=1, cache_read=0, cache_write=0,
          created_at=None, cost_usd=None)
    s.add("update_no_bump", task_id="t2", provider="p", model="m", input=7, output=1, cache_read=0, cache_write=0)
    ops = frame_from_ops(s.ops, s.outcomes, results={len(s.ops) - 1: 1}, columns=(CENT,))
    rows = usage_rows(ops, (CENT,))
    assert rows.schema["cost_usd"] == pl.Decimal(38, 2)
    (truth,) = hour_truth(rows, (*DEFAULT_MEASURES, *MEASURES)).to_dicts()
    assert {k: truth[k] for k in ("input_tokens", "task_count", "event_count")} == {
        "input_tokens": 19, "task_count": 2, "event_count": 2}
    assert (truth["cost_usd"], truth["uncosted"], truth["costed"]) == (Decimal("0.75"), 7, 1)
    assert (truth["big_rows"], truth["big_tasks"], truth["models"], truth["pricey"]) == (1, 1, 1, Decimal("0.75"))


def test_a_history_without_the_column_reads_as_nulls():
    s = Story()
    s.task("t1")
    s.usage("t1", 10)
    rows = usage_rows(frame_from_ops(s.ops, s.outcomes), (CENT,))
    (truth,) = hour_truth(rows, MEASURES[:3]).to_dicts()
    assert (truth["cost_usd"], truth["uncosted"], truth["costed"]) == (0, 10, 0)


# ---------------------------------------------------------------- writing the column


def test_the_column_comes_from_a_stream_of_its_own():
    sc = loads(SMALL)
    plain, costed = generate(sc), generate(sc, Target.resolve(COST).usage_columns())
    assert [(o.name, o.at, o.session, o.value) for o in plain] == [
        (o.name, o.at, o.session, {k: v for k, v in o.value.items() if k != "cost_usd"}) for o in costed]
    costs = [o.value["cost_usd"] for o in costed if o.name == "usage"]
    nulls = sum(c is None for c in costs)
    assert 0.15 < nulls / len(costs) < 0.45  # share = 0.7
    assert all(c is None or (len(c.split(".")[1]) == 6 and 0 <= float(c) <= 0.25) for c in costs)


def test_a_history_records_the_column_only_where_declared(tmp_path):
    op = next(o for o in generate(loads(SMALL), (CENT,)) if o.name == "usage")
    bare = HistoryWriter(tmp_path / "a.jsonl", {"scenario": "x"})
    bare.invoke(op)
    bare.close()
    assert b"cost_usd" not in (tmp_path / "a.jsonl").read_bytes()
    op.value.pop("cost_usd")
    again = HistoryWriter(tmp_path / "b.jsonl", {"scenario": "x"})
    again.invoke(op)
    again.close()
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    with_column = HistoryWriter(tmp_path / "c.jsonl", {"scenario": "x", "columns": {"cost_usd": CENT.header()}})
    with_column.invoke(op)
    with_column.complete(op, "ok")
    with_column.close()
    h = History.load(tmp_path / "c.jsonl")
    assert h.columns == (CENT,) and h.ops.get_column("cost_usd").to_list() == [None]
    assert next(h.replay()).value["cost_usd"] is None


def test_the_clients_statements_are_exact_for_a_chain_without_the_column(db):
    plain = Client(db, 1, None)  # no operation applied: no history needed
    try:
        assert plain.single is SINGLE and plain.single["usage"] == UPSERT_USAGE
        assert (plain.loader.usage_columns, plain.loader.insert_usage, plain.loader.upsert) == (
            USAGE_COLUMNS, INSERT_USAGE, UPSERT)
        costed = Client(db, 1, None, columns=(CENT,))
        try:  # declared, but the schema lacks it yet: written only from the migration that adds it
            assert costed.single is SINGLE and costed.loader.usage_columns == USAGE_COLUMNS
            with db.connect() as conn:
                conn.execute(f"ALTER TABLE task_usage ADD COLUMN cost_usd {CENT.sql_type}")
            costed.schema_changed()
            assert "cost_usd = EXCLUDED.cost_usd" in costed.single["usage"] and "cost_usd" in costed.loader.upsert
            assert costed.loader.usage_columns == (*USAGE_COLUMNS, "cost_usd")
        finally:
            costed.close()
    finally:
        plain.close()


def test_a_schema_lacking_what_is_declared_is_named(db):
    lacking = Rollup(HOURLY.table, HOURLY.bucket, 60, (*DEFAULT_MEASURES, Measure("cost_usd", "sum", "cost_usd")))
    with db.connect() as conn:
        assert reads.check_declared(conn, [HOURLY], ()) == []
        assert reads.check_declared(conn, [lacking], (CENT,)) == [
            "task_usage has no column cost_usd", "task_usage_hourly has no column cost_usd for its measure"]
        odd = Rollup(HOURLY.table, HOURLY.bucket, 60, (Measure("event_count", "count", "*", "input_tokens > 'abc'"),))
        (problem,) = reads.check_declared(conn, [odd], ())
        assert problem.startswith("task_usage_hourly.event_count: PostgreSQL cannot evaluate where")


# ---------------------------------------------------------------- judged end to end


def verdict(server, tmp_path: Path, target: str) -> tuple[dict, object]:
    sc, tgt = loads(SMALL), Target.resolve(target)
    result = run(server, RunSpec(sc, SMALL, tgt, tmp_path / "h.jsonl"), generate(sc, tgt.usage_columns()), RunHooks(judge=for_run(sc, tgt.reads.exact)))
    return evaluate(result), result


def test_a_chain_keeping_a_cost_converges_on_every_measure(server, tmp_path):
    v, result = verdict(server, tmp_path, COST)
    assert v["ok"], [c for c in v["checks"] if not c["ok"]]
    checks = {c["name"]: c["observed"] for c in v["checks"]}
    assert checks["history applied as recorded"] == "0 usage row(s) differ"  # the cost as the history says
    assert checks["EXCEPT ALL second opinion agrees"] == "0 extra / 0 missing"
    final = result.checks[-1]
    assert final.hour.values == [*reads.VALUES, *EXTRA]
    with_cost = History.load(result.history_path).ops.filter(pl.col("f") == "usage").get_column("cost_usd")
    assert 0 < with_cost.null_count() < with_cost.len()  # some reports costed, some not
    again = evaluate(rejudge(result.history_path))  # offline, from the history and the snapshots beside it
    assert [(c["name"], c["observed"], c["ok"]) for c in again["checks"]] == [
        (c["name"], c["observed"], c["ok"]) for c in v["checks"]]


@pytest.mark.one_server
def test_a_window_summing_the_cost_wrongly_fails_on_that_measure_alone(server, tmp_path):
    v, result = verdict(server, tmp_path, MUTANT)
    assert {c["name"] for c in v["checks"] if not c["ok"]} == {"hour-grain drift"}
    bad = pl.concat([c.hour.rows for c in result.checks])
    assert bad.height and set(bad.get_column("status")) == {"mismatched"}
    off = {m for m in [*reads.VALUES, *EXTRA] if bad.get_column(f"{m}_delta").cast(pl.Float64).abs().sum() > 0}
    assert off == {"cost_usd"}
    assert all(set(b["deltas"]) == {"cost_usd"} for b in v["bad_keys"]) and v["bad_keys"]
    final = result.checks[-1]  # the database's own second opinion sees the same keys off, by the declared measures
    assert final.except_all == (final.hour.count("mismatched"),) * 2 and final.except_all[0] > 0


def test_the_raw_rows_are_held_to_the_history_on_the_declared_column_too():
    s = Story()
    s.task("t1")
    s.add("usage", task_id="t1", provider="P", model="m", input=10, output=1, cache_read=0, cache_write=0,
          created_at=None, cost_usd="0.25")
    rows = usage_rows(frame_from_ops(s.ops, s.outcomes, columns=(CENT,)), (CENT,))
    assert apply_diff(rows, rows, ["cost_usd"]) == 0
    rounded = rows.with_columns(cost_usd=pl.lit(Decimal("0.30")).cast(pl.Decimal(38, 2)))  # fewer digits kept
    assert apply_diff(rows, rounded) == 0 and apply_diff(rows, rounded, ["cost_usd"]) == 2


@pytest.mark.one_server
def test_a_run_on_a_schema_lacking_the_declarations_stops_with_one_line(server, tmp_path):
    (tmp_path / "rollups.toml").write_text(COLUMN)  # a column the reference's task_usage does not have
    sc, tgt = loads(SMALL), Target.resolve(f"{MIGRATIONS_ROOT / 'reference'},{tmp_path}")
    with pytest.raises(TargetError, match=r"^target .*: its rollups.toml declares what its schema lacks: "
                                          r"task_usage has no column cost_usd$"):
        run(server, RunSpec(sc, SMALL, tgt, tmp_path / "h.jsonl"), generate(sc, tgt.usage_columns()), RunHooks(judge=for_run(sc, tgt.reads.exact)))
