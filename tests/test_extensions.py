"""A chain that needs an extension (rollup/extensions.py): the CREATE EXTENSION statements found in its files, a
server that cannot load one refused on one line naming the migration, the extension and the servers that have it
(exit 2), and `server = "auto"` choosing the first server that can run the chain — here the machine's
PostgreSQL 15 for tests/targets/pgcrypto, which the embedded PostgreSQL 18 cannot run."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.orchestrate.execute import SCENARIOS
from bench.cli.main import app
from rollup.extensions import choose, creates, has, needs
from rollup.migrations import MIGRATIONS_ROOT
from tests import test_cli
from tests.test_cli import COMMANDS, args, one_line_error

cli = CliRunner()
PGCRYPTO = Path(__file__).parent / "targets" / "pgcrypto"
CHAIN = f"{MIGRATIONS_ROOT / 'reference'},{PGCRYPTO}"
UPS = sorted((MIGRATIONS_ROOT / "reference").glob("*.up.sql")) + sorted(PGCRYPTO.glob("*.up.sql"))

bad = test_cli.bad  # its fixture of bad inputs

# The premise of the tests below: a fact of this machine's two servers, checked rather than assumed.
premise = pytest.mark.skipif(has("embedded", "pgcrypto") or not has("local", "pgcrypto"),
                             reason="needs an embedded server without pgcrypto and a local one with it")


def test_create_extension_statements_are_found_with_their_lines(tmp_path):
    sql = tmp_path / "1_x.up.sql"
    sql.write_text(textwrap.dedent("""\
        -- CREATE EXTENSION in_a_comment;
        create extension if not exists PgCrypto;
        /* CREATE EXTENSION in_a_block
           comment */ CREATE EXTENSION "uuid-ossp" SCHEMA public;
        DO $$ BEGIN CREATE EXTENSION IF NOT EXISTS "Quoted""Name"; END $$;
        CREATE TABLE extension_log (x int);  -- not one
        """))
    assert [(n.line, n.name) for n in needs([sql])] == [(2, "pgcrypto"), (4, "uuid-ossp"), (5, 'Quoted"Name')]
    assert str(needs([sql])[0]) == "1_x.up.sql:2"


def test_the_reference_chain_creates_no_extension():
    assert needs(sorted((MIGRATIONS_ROOT / "reference").glob("*.up.sql"))) == []
    assert choose(sorted((MIGRATIONS_ROOT / "reference").glob("*.up.sql"))) == ("embedded",
                                                                                  "the chain creates no extension")


@premise
def test_auto_chooses_the_first_server_that_has_every_extension(tmp_path):
    backend, why = choose(UPS)
    assert backend == "local" and why == "embedded lacks 'pgcrypto' (000_0_pgcrypto.up.sql:3 creates it)"
    nowhere = tmp_path / "1_nowhere.up.sql"
    nowhere.write_text("CREATE EXTENSION no_such_extension;\n")
    backend, why = choose([*UPS, nowhere])
    assert backend == "embedded" and why.startswith("no server has every extension") and "local lacks" in why


@premise
def test_a_server_without_the_extension_refuses_on_one_line(tmp_path):
    line = one_line_error(cli.invoke(app, ["migrate", "--target", CHAIN]))
    assert line.startswith("error: [embedded] migration 000_0_pgcrypto.up.sql:3 needs extension 'pgcrypto'"), line
    assert "servers that have it: --pg local, --pg docker" in line, line
    # a file that creates an extension the server has, and fails for another reason, is the chain's failure (1)
    other = tmp_path / "other"
    other.mkdir()
    (other / "999_other.up.sql").write_text("CREATE EXTENSION IF NOT EXISTS pg_trgm;\nSELECT no_such_function();\n")
    line = one_line_error(cli.invoke(app, ["migrate", "--target", f"{MIGRATIONS_ROOT / 'reference'},{other}"]), 1)
    assert "migration failed: 999_other.up.sql:2:8: function no_such_function() does not exist" in line, line


def project(folder: Path, server: str | None) -> Path:
    folder.mkdir()
    (folder / "rollup-bench.toml").write_text(
        (f"server = {server!r}\n" if server else "")
        + f"migrations = [{str(MIGRATIONS_ROOT / 'reference')!r}, {str(PGCRYPTO)!r}]\n"
        + f"scenarios = [{str(SCENARIOS / 'peer' / 'idempotent.toml')!r}]\nreport_dir = 'reports'\njobs = 1\n")
    return folder


@premise
def test_a_project_that_names_no_server_runs_the_chain_where_it_can(tmp_path, monkeypatch):
    monkeypatch.chdir(project(tmp_path / "auto", None))
    result = cli.invoke(app, ["gate"])
    assert result.exit_code == 0, result.output
    assert "server: auto chose local: embedded lacks 'pgcrypto'" in result.output, result.output
    (verdict,) = Path("reports").glob("*.json")
    v = json.loads(verdict.read_text())
    assert v["ok"] and v["server"] == "local" and v["server_version"].startswith("15")
    # a project that names embedded gets the one-line error, naming the run it stopped
    monkeypatch.chdir(project(tmp_path / "embedded", "embedded"))
    line = one_line_error(cli.invoke(app, ["gate"]))
    assert "needs extension 'pgcrypto'" in line and "(in 1 run(s): idempotent on embedded)" in line, line


def test_auto_is_a_server_a_project_and_the_command_line_accept(tmp_path, monkeypatch):
    from bench.orchestrate import project as config

    assert config.load(project(tmp_path / "p", None) / "rollup-bench.toml").server == "auto"
    assert config.Project().server is None  # no configuration: the command line's default, embedded
    result = cli.invoke(app, ["migrate", "--pg", "auto", "--target", "reference"])
    assert result.exit_code == 0 and "server: auto chose embedded: the chain creates no extension" in result.output


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_takes_auto_and_still_refuses_a_bad_target_on_one_line(command, bad):
    assert "is not a directory" in one_line_error(cli.invoke(app, args(command, bad, pg="auto", target=bad["nowhere"])))


OPTIONAL_FORMS = """\
DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'guarded_by_if') THEN
  CREATE EXTENSION guarded_by_if; END IF;
  EXECUTE 'CREATE EXTENSION executed';
  BEGIN CREATE EXTENSION reraised; EXCEPTION WHEN SQLSTATE '58P01' THEN RAISE; END;
  BEGIN CREATE EXTENSION by_sqlstate; EXCEPTION WHEN SQLSTATE '58P01' THEN NULL; END;
  BEGIN CREATE EXTENSION wrong_condition; EXCEPTION WHEN division_by_zero THEN NULL; END;
  BEGIN CREATE EXTENSION by_name; EXCEPTION WHEN undefined_file OR feature_not_supported THEN NULL; END;
  BEGIN BEGIN CREATE EXTENSION by_outer; END; EXCEPTION WHEN OTHERS THEN RAISE NOTICE '%', SQLERRM; END;
  BEGIN NULL; EXCEPTION WHEN OTHERS THEN CREATE EXTENSION in_handler; END;
END $$;
SELECT 'CREATE EXTENSION in_a_string';
CREATE EXTENSION top_level;
"""


def test_an_extension_created_only_optionally_is_told_apart_on_the_parse_tree(tmp_path):
    sql = tmp_path / "1_x.up.sql"
    sql.write_text(OPTIONAL_FORMS)
    got = [(n.line, n.name, n.optional) for n in creates([sql])]
    assert got == [(2, "guarded_by_if", True), (3, "executed", False), (4, "reraised", False),
                   (5, "by_sqlstate", True), (6, "wrong_condition", False), (7, "by_name", True),
                   (8, "by_outer", True), (9, "in_handler", False), (12, "top_level", False)]
    assert [n.name for n in needs([sql])] == ["executed", "reraised", "wrong_condition", "in_handler", "top_level"]


def test_a_file_the_parser_rejects_is_scanned_every_extension_required(tmp_path):
    sql = tmp_path / "1_x.up.sql"
    sql.write_text("CREATE EXTENSION pgcrypto;\n"
                   "DO $$ BEGIN CREATE EXTENSION x; EXCEPTION WHEN OTHERS THEN NULL; END $$\nSELEKT broken;\n")
    assert [(n.line, n.name, n.optional) for n in creates([sql])] == [(1, "pgcrypto", False), (2, "x", False)]


TEAM = sorted((Path(__file__).parent / "chains" / "team" / "migrations").glob("*.up.sql"))


@premise
def test_auto_passes_over_optional_extensions_and_picks_the_server_that_runs_the_team_chain():
    backend, why = choose(TEAM)
    assert backend == "local", why
    assert why == ("embedded lacks 'pgcrypto' (001_init.up.sql:2 creates it); 'pg_bigm', 'pg_cron' only optional "
                   "(047_search_pg_bigm.up.sql:4, 163_notification_purge_pg_cron.up.sql:4), so no server needs them")
    assert not has("local", "pg_bigm") and not has("local", "pg_cron")  # the premise: local lacks both
