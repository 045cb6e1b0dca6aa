"""A team's long chain (tests/chains/team, written by tests/chains/make_team.py) and reproductions on any chain.

The fixture is what make_team.py writes; a reproduction that stops part way up a chain writes the usage columns
the schema has then (a declared column joins the writes from the migration that adds it), and one the chain
cannot carry out is its own outcome, with its reason: neither a divergence nor fixed in a baseline.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from bench.drive.history import History
from bench.drive.runner import scripted_ops
from bench.judge import baseline
from bench.orchestrate.execute import SCENARIOS, run_scenario
from bench.workload.scenario import loads
from rollup.migrations import MIGRATIONS_ROOT
from tests.chains import make_team
from tests.helpers import request

TEAM = Path(__file__).parent / "chains" / "team" / "migrations"
COST = f"{MIGRATIONS_ROOT / 'reference'},{Path(__file__).parent / 'targets' / 'cost_measures'}"
B7 = (SCENARIOS / "repro" / "B7.toml").read_text()


def test_the_committed_chain_is_what_make_team_writes():
    assert make_team.main(["--check"]) == 0
    ups = sorted(TEAM.glob("*.up.sql"))
    assert len(ups) == make_team.TOTAL == 432 and len(list(TEAM.glob("*.down.sql"))) == 432
    assert ups[0].name == "001_init.up.sql" and "CREATE EXTENSION IF NOT EXISTS pgcrypto" in ups[0].read_text()
    assert [p.name for p in ups[99:104]] == [p.name for p in sorted((MIGRATIONS_ROOT / "reference").glob("10*.up.sql"))]


def test_a_reproduction_stopped_before_the_cost_column_writes_usage_without_it(server, tmp_path):
    """B7 writes usage at 102, before cost_measures' 900 adds cost_usd; that report, given a cost, is written
    and recorded without one. Before the fix the usage write failed: 42703, column "cost_usd" does not exist."""
    sc = loads(B7)
    ops = scripted_ops(sc)
    for op in ops:
        if op.name == "usage":
            op.value["cost_usd"] = "0.125000"
    v = run_scenario(server, request(B7, COST, tmp_path), ops=ops)
    assert not v["failures"], v["failures"]
    assert "hour:missing" in v["signature"], v["checks"]  # B7 shows: its usage never reaches the rollup
    (usage,) = [op for op in History.load(Path(v["history"])).replay() if op.name == "usage"]
    assert usage.value.get("cost_usd") is None


def test_a_run_the_chain_cannot_carry_out_is_its_own_outcome(server, tmp_path):
    chain = tmp_path / "chain"
    shutil.copytree(MIGRATIONS_ROOT / "reference", chain)
    for f in chain.glob("102_*"):  # the team numbered it otherwise: B7 cannot stop at 102
        f.rename(f.with_name("102a" + f.name[3:]))
    v = run_scenario(server, request(B7, str(chain), tmp_path / "r", accept=("B7",)))
    assert v["ok"] and v["not_applicable"] == "it stops the chain at migration 102, which the chain does not have"
    assert v["checks"][0]["observed"].startswith("cannot run on this chain: it stops the chain at migration 102")
    assert v["baseline"]["status"] == baseline.NOT_APPLICABLE and not v["baseline"]["new"]
    assert baseline.settle([v], ("B7",)) == []  # not fixed: it could not show
    ran = dataclasses.replace(v, not_applicable=None)
    assert baseline.settle([ran], ("B7",)) == ["B7"]  # (a run that showed nothing would be)
    # a check part way up the chain, before the chain adds what rollups.toml declares
    early = B7.replace('[[step]]\ndo = "migrate"', '[[step]]\ndo = "check"\nat = "30m"\n\n[[step]]\ndo = "migrate"')
    v = run_scenario(server, request(early, COST, tmp_path / "early"))
    assert v["ok"] and "short of 900_cost_measures" in v["not_applicable"], v["checks"]
