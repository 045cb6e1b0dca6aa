"""Named-query files (rollup/queries.py) and read sides made of them (rollup/readside.py): every parameter style,
what is left alone, and each error on one line naming the file and the line."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from bench.cli.main import app
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
