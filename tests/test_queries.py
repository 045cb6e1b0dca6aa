"""Named-query files (rollup/queries.py) and read sides made of them (rollup/readside.py): every parameter style,
what is left alone, and each error on one line naming the file and the line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.cli.main import app
from rollup.migrations import MIGRATIONS_ROOT, Target
from rollup.queries import QueryFileError, parse, translate
from rollup.readside import DEFAULT_QUERIES, ReadSideError, changed, load


def one(sql: str) -> tuple[str, tuple[str, ...]]:
    text, params, _ = translate(sql)
    return text, tuple(params)


@pytest.mark.parametrize("sql, text, params", [
    ("SELECT $1, $2, $1", "SELECT %($1)s, %($2)s, %($1)s", ("$1", "$2")),
    ("WHERE a = @workspace_id AND b >= @cutoff", "WHERE a = %(workspace_id)s AND b >= %(cutoff)s",
     ("workspace_id", "cutoff")),
    ("WHERE a = sqlc.arg('ws') AND b = sqlc.arg(ws)", "WHERE a = %(ws)s AND b = %(ws)s", ("ws",)),
    ("WHERE sqlc.narg('p')::uuid IS NULL OR p = sqlc.narg( p )::uuid", "WHERE %(p)s::uuid IS NULL OR p = %(p)s::uuid",
     ("p",)),
    ("WHERE a = :workspace_id AND b = :cutoff::timestamptz",
     "WHERE a = %(workspace_id)s AND b = %(cutoff)s::timestamptz", ("workspace_id", "cutoff")),
    ("SELECT x::text, arr[lo:hi], f(a := 1)", "SELECT x::text, arr[lo:hi], f(a := 1)", ()),  # casts, slices
    ("SELECT a @> b, c <@ d, e$1", "SELECT a @> b, c <@ d, e$1", ()),  # operators; $ inside a name
    ("SELECT 100 % 7, 'a%'", "SELECT 100 %% 7, 'a%%'", ()),  # psycopg reads every %: doubled
])
def test_parameter_styles(sql, text, params):
    assert one(sql) == (text, params)


@pytest.mark.parametrize("opaque", [
    "'@x $1 :y sqlc.arg(z)'", "'it''s @x'", r"E'\'@x $1'", "e'\\\\' ", '"@col $1"', '"a""@b"',
    "-- @x $1 :y\n", "/* @x /* nested $1 */ :y */", "$$ @x $1 $$", "$fn$ @x $$ $1 $fn$",
])
def test_literals_identifiers_comments_and_dollar_quotes_are_left_alone(opaque):
    assert one(f"SELECT {opaque} @after") == (f"SELECT {opaque} %(after)s", ("after",))


FILE = """-- a header, before any query

-- name: WorkspaceDailyUsage :many
-- its own comment
SELECT @tz;

-- name: count_rows$
SELECT count(*) FROM t WHERE ws = :workspace_id

-- name: insert_many*!
INSERT INTO t VALUES ($1);
-- name: Drop :exec
DROP TABLE t;
"""


def test_queries_by_name_in_both_conventions():
    found = parse(FILE, "usage.sql")
    assert list(found) == ["WorkspaceDailyUsage", "count_rows", "insert_many", "Drop"]
    assert found["WorkspaceDailyUsage"].line == 3 and found["WorkspaceDailyUsage"].params == ("tz",)
    assert found["WorkspaceDailyUsage"].text == "-- its own comment\nSELECT %(tz)s;"
    assert found["count_rows"].text == "SELECT count(*) FROM t WHERE ws = %(workspace_id)s"
    assert found["insert_many"].params == ("$1",) and found["Drop"].text == "DROP TABLE t;"


@pytest.mark.parametrize("text, message", [
    ("-- name: A :one\nSELECT 1;\n-- name: A :many\nSELECT 2;\n", "usage.sql:3: query A again (first at line 1)"),
    ("-- name: A :one\nSELECT 1;\n-- name:\nSELECT 2;\n", "usage.sql:3: '-- name:' without a query name"),
    ("-- name: A :one\n-- only a comment\n\n-- name: B :one\nSELECT 1;\n", "usage.sql:1: query A has no statement"),
    ("-- name: A :one\nSELECT 1;\n-- name: B :one\n", "usage.sql:3: query B has no statement"),
    ("-- name: two words\nSELECT 1;\n", "usage.sql:1: cannot read a query name"),
])
def test_file_errors_name_the_file_and_line(text, message):
    with pytest.raises(QueryFileError) as info:
        parse(text, "usage.sql")
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


def test_the_built_in_read_sides_and_their_claims():
    faithful, hardened = load("faithful"), load("hardened")
    assert (faithful.exact, hardened.exact) == (False, True)
    assert [r.query for _, r in hardened.reports] == list(DEFAULT_QUERIES.values())
    assert dict(faithful.report("runtime_daily").binds) == {"tz": "tz", "runtime_id": "runtime_id",
                                                             "cutoff": "cutoff"}
    assert faithful.sha256 != hardened.sha256


def test_a_sql_file_with_the_default_names(tmp_path):
    path = tmp_path / "mine.sql"
    path.write_text("\n".join(f"-- name: {q} :many\nSELECT @tz, :cutoff;" for q in DEFAULT_QUERIES.values()))
    side = load(str(path))
    assert side.name == str(path) and not side.exact and side.files == (path,)
    assert side.report("workspace_daily").text == "SELECT %(tz)s, %(cutoff)s;"


SQLC = """-- name: Daily :many
SELECT $1, $2, $3;
-- name: ByAgent :many
SELECT @ws, @since;
-- name: Runtime :many
SELECT sqlc.arg(runtime_id), sqlc.arg('cutoff'), @tz;
"""
MAPPING = """queries = "q.sql"
exact = true

[workspace_daily]
query = "Daily"
params = ["workspace_id", "cutoff", "tz"]
columns = { day = "date" }

[workspace_by_agent]
query = "ByAgent"
params = { ws = "workspace_id", since = "cutoff" }

[runtime_daily]
query = "Runtime"
"""


def write(tmp_path, mapping: str = MAPPING, queries: str = SQLC, name: str = "side.toml"):
    (tmp_path / "q.sql").write_text(queries)
    (tmp_path / name).write_text(mapping)
    return str(tmp_path / name)


def test_a_toml_mapping_binds_positions_names_and_renames_columns(tmp_path):
    side = load(write(tmp_path))
    assert side.exact and side.files == (tmp_path / "q.sql",)
    daily = side.report("workspace_daily")
    assert daily.binds == (("$1", "workspace_id"), ("$2", "cutoff"), ("$3", "tz"))
    assert daily.columns == (("day", "date"),) and daily.text == "SELECT %($1)s, %($2)s, %($3)s;"
    assert side.report("workspace_by_agent").binds == (("ws", "workspace_id"), ("since", "cutoff"))


def test_a_project_file_holds_the_mapping_under_its_table(tmp_path):
    side = load(write(tmp_path, _project(MAPPING), name="pyproject.toml"))
    assert side.report("workspace_daily").query == "Daily" and side.exact and side.files == (tmp_path / "q.sql",)


def _project(mapping: str) -> str:
    """The mapping as a pyproject.toml's [tool.rollup-bench.read_side] table."""
    head, *tables = mapping.split("\n[")
    out = "[tool.rollup-bench]\njobs = 1\n\n[tool.rollup-bench.read_side]\n" + head + "\n"
    return out + "".join(f"\n[tool.rollup-bench.read_side.{t}" for t in tables)


@pytest.mark.parametrize("change, message", [
    (('query = "Daily"', 'query = "Dialy"'), "side.toml:5: workspace_daily.query: q.sql has no query Dialy"),
    (('"cutoff", "tz"]', '"cutoff"]'), "q.sql:2: Daily uses $3, which the mapping of workspace_daily does not bind"),
    (('since = "cutoff"', 'from = "cutoff"'), "side.toml:11: workspace_by_agent.params: ByAgent (q.sql:3) has no "
                                              "parameter from (it has ws, since)"),
    ((', since = "cutoff"', ''), "q.sql:4: ByAgent uses @since, which the mapping of workspace_by_agent does not"),
    (('"workspace_id", "cutoff", "tz"', '"workspace_id", "cutoff", "zone"'),
     "side.toml:6: workspace_daily.params: 'zone' is not a value the bench offers workspace_daily"),
    (('query = "Runtime"', 'query = "Runtime"\nparams = ["workspace_id"]'),
     "side.toml:15: runtime_daily.params: 'workspace_id' is not a value the bench offers runtime_daily"),
    (('day = "date"', 'day = "when"'), "side.toml:7: workspace_daily.columns: expected result column = one of date"),
    (('exact = true', 'exact = "yes"'), "side.toml:2: exact: expected true or false"),
    (('exact = true', 'exact = true\nspeed = 1'), "side.toml:3: speed: unknown key"),
    (('queries = "q.sql"', 'queries = "none.sql"'), "none.sql: cannot read the query file"),
])
def test_mapping_errors_name_the_file_and_line(tmp_path, change, message):
    with pytest.raises(ReadSideError) as info:
        load(write(tmp_path, MAPPING.replace(*change)))
    assert message in str(info.value) and "\n" not in str(info.value)


def test_project_table_errors_name_the_project_files_lines(tmp_path):
    with pytest.raises(ReadSideError, match=r"pyproject.toml:10: tool.rollup-bench.read_side.workspace_daily.query: "):
        load(write(tmp_path, _project(MAPPING.replace('"Daily"', '"Nope"')), name="pyproject.toml"))


def test_a_default_name_the_file_lacks(tmp_path):
    (tmp_path / "few.sql").write_text("-- name: WorkspaceDailyUsage :many\nSELECT 1;\n")
    with pytest.raises(ReadSideError, match=r"few.sql: workspace_by_agent: few.sql has no query WorkspaceUsageByAgent"):
        load(str(tmp_path / "few.sql"))


def test_not_a_read_side():
    with pytest.raises(ReadSideError, match="give faithful, hardened, a .sql query file or a .toml read-side file"):
        load("sideways")


def test_a_replay_says_when_the_query_file_changed(tmp_path):
    side = load(write(tmp_path))
    assert changed({"read_side": side.name, "read_side_sha256": side.sha256}, side) is None
    assert changed({"read_side": "hardened"}, load("hardened")) is None  # recorded before files: nothing to compare
    assert changed({}, side) is None  # a history without checks
    assert "q.sql changed since the history was recorded" in changed({"read_side": side.name,
                                                                      "read_side_sha256": "0" * 64}, side)
    assert changed({"read_side": "faithful"}, side) == \
        f"the history was read through faithful, this run through {side.name}"


@pytest.mark.parametrize("args", [["run", "scenarios/smoke.toml"], ["gate", "--jobs", "1"]])
def test_bad_read_sides_exit_2_on_one_line(tmp_path, args):
    bad = write(tmp_path, MAPPING.replace('"Daily"', '"Dialy"'))
    (tmp_path / "pyproject.toml").write_text(_project(MAPPING.replace("exact = true", "exact = 1")))
    for extra, message in ((["--read-side", bad], "side.toml:5: workspace_daily.query: q.sql has no query Dialy"),
                           (["--config", str(tmp_path / "pyproject.toml")] if args[0] == "gate" else
                            ["--read-side", str(tmp_path / "pyproject.toml")],
                            "pyproject.toml:6: tool.rollup-bench.read_side.exact: expected true or false")):
        result = CliRunner().invoke(app, [*args, *extra])
        assert result.exit_code == 2 and message in result.output, result.output
        assert len([line for line in result.output.splitlines() if line.startswith("error: ")]) == 1


# ---------------------------------------------------------------- a team's files as they are (issue 35)

TEAM = Path(__file__).parent / "chains" / "team"
COST_TICKS = f"{MIGRATIONS_ROOT / 'reference'},{Path(__file__).parent / 'read_sides' / 'cost_ticks'}"


def test_the_team_files_bind_mixed_parameters_and_leave_other_queries_alone():
    side = load(str(TEAM / "read_side.toml"))
    assert [f.name for f in side.files] == ["runtime.sql", "usage.sql"]  # queries = ["queries/*.sql"]
    daily = side.report("workspace_daily")
    assert daily.query == "WorkspaceDailyUsageWithCost" and daily.file.name == "usage.sql"
    assert dict(daily.binds) == {"$1": "workspace_id", "since": "cutoff", "tz": "tz", "project_id": "project_id"}
    assert daily.measures == ("cost_usd_ticks", "uncosted_input_tokens", "uncosted_output_tokens")
    assert dict(side.report("runtime_daily").binds) == {"$1": "runtime_id", "since": "cutoff", "tz": "tz"}
    # ListAgents takes @owner_id, which the bench offers no report, and reads a table it never fills: not bound
    assert "ListAgents" not in {r.query for _, r in side.reports}
    assert Target.resolve(COST_TICKS, str(TEAM / "read_side.toml")).reads == side


def test_positional_and_named_parameters_of_every_form_in_one_query(tmp_path):
    (tmp_path / "q.sql").write_text(
        "-- name: Daily :many\nSELECT $1, @tz, sqlc.narg('project_id'), d @@ e\n"
        "  FROM t WHERE ts >= sqlc.arg('since')::timestamptz AND $2 > 0 AND :n::int > 0;\n"
        "-- name: ByAgent :many\nSELECT @workspace_id, @cutoff;\n-- name: Runtime :many\nSELECT @runtime_id;\n")
    (tmp_path / "side.toml").write_text('queries = ["q.sql"]\n[workspace_daily]\nquery = "Daily"\n'
                                        'params = { "$1" = "workspace_id", since = "cutoff", "$2" = "days", '
                                        '":n" = "days" }\n[workspace_by_agent]\nquery = "ByAgent"\n'
                                        '[runtime_daily]\nquery = "Runtime"\n')
    daily = load(str(tmp_path / "side.toml")).report("workspace_daily")
    assert dict(daily.binds) == {"$1": "workspace_id", "tz": "tz", "project_id": "project_id", "since": "cutoff",
                                 "$2": "days", "n": "days"}
    assert "d @@ e" in daily.text  # an operator, not a parameter


@pytest.mark.parametrize("change, message", [
    (('queries = ["queries/*.sql"]', 'queries = ["queries/*.sql", "more/*.sql"]'),
     "read_side.toml:4: queries: 'more/*.sql' matches no file"),
    (('queries = ["queries/*.sql"]', 'queries = []'), "read_side.toml:4: queries: give the query files"),
    (('"$1" = "runtime_id", "@since"', '"$1" = "runtime_id", "$2" = "tz", "@since"'),
     "runtime_daily.params: RuntimeDailyUsageWithCost (runtime.sql:6) has no parameter $2"),
    (('query = "RuntimeDailyUsageWithCost"', 'query = "GetRuntime"'),
     "GetRuntime (runtime.sql:3) has no parameter since"),
    (('params = { "$1" = "workspace_id", since = "cutoff" }  #', 'params = { "$1" = "workspace_id" }  #'),
     "usage.sql:28: WorkspaceDailyUsageWithCost uses @since, which the mapping of workspace_daily does not bind"),
    (('"uncosted_output_tokens"]', '"uncosted_output_tokens", 3]'),
     "read_side.toml:9: workspace_daily.measures: expected a list of measure names"),
    (('cost_ticks = "cost_usd_ticks"\nuncosted_input = "uncosted_input_tokens"\nuncosted_output',
      'cost_ticks = "cost_usd_tick"\nuncosted_input = "uncosted_input_tokens"\nuncosted_output'),
     "workspace_daily.columns: expected result column = one of date"),
])
def test_team_mapping_errors_are_one_line(tmp_path, change, message):
    shutil.copytree(TEAM / "queries", tmp_path / "queries")
    text = (TEAM / "read_side.toml").read_text()
    assert change[0] in text
    (tmp_path / "read_side.toml").write_text(text.replace(*change))
    with pytest.raises(ReadSideError) as info:
        load(str(tmp_path / "read_side.toml"))
    assert message in str(info.value) and "\n" not in str(info.value), str(info.value)


def test_a_name_in_two_files_is_an_error_only_for_a_mapped_query(tmp_path):
    shutil.copytree(TEAM / "queries", tmp_path / "queries")
    shutil.copy(TEAM / "read_side.toml", tmp_path)
    (tmp_path / "queries" / "more.sql").write_text("-- name: GetWorkspace :one\nSELECT 1;\n")
    load(str(tmp_path / "read_side.toml"))  # GetWorkspace twice: no report maps it
    (tmp_path / "queries" / "more.sql").write_text("-- x\n-- name: GetRuntime :one\nSELECT 1;\n"
                                                   "-- name: RuntimeDailyUsageWithCost :many\nSELECT 1;\n")
    with pytest.raises(ReadSideError, match=r"runtime.sql:6: query RuntimeDailyUsageWithCost again \(also at .*more"
                                            r".sql:4\); runtime_daily maps it"):
        load(str(tmp_path / "read_side.toml"))


def test_an_absolute_glob(tmp_path):
    (tmp_path / "side.toml").write_text((TEAM / "read_side.toml").read_text().replace(
        '"queries/*.sql"', f'"{TEAM}/queries/*.sql"'))
    assert load(str(tmp_path / "side.toml")).files == load(str(TEAM / "read_side.toml")).files


@pytest.mark.parametrize("target, change, message", [
    (f"{MIGRATIONS_ROOT / 'reference'}", None, "read_side.toml:9: workspace_daily.measures: cost_usd_ticks is not a "
                                               "measure the target declares in rollups.toml"),
    (COST_TICKS, ('"uncosted_input_tokens"]\n[workspace_by_agent.columns]',
                  '"uncosted_input_tokens", "task_count"]\n[workspace_by_agent.columns]'),
     "workspace_by_agent.measures: task_count counts distinct values, which no report can add up over hours"),
])
def test_measures_a_target_does_not_declare_or_cannot_add_up(tmp_path, target, change, message):
    shutil.copytree(TEAM / "queries", tmp_path / "queries")
    text = (TEAM / "read_side.toml").read_text()
    (tmp_path / "read_side.toml").write_text(text.replace(*change) if change else text)
    with pytest.raises(ReadSideError) as info:
        Target.resolve(target, str(tmp_path / "read_side.toml"))
    assert message in str(info.value) and "\n" not in str(info.value), str(info.value)
