"""The fault schedule of generated scenarios ([faults], bench/workload/faults.py), the sessions' drawn time zones and the
boundary timestamps: each shown to take effect in the database, not only in the stream."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import psycopg
import pytest

from bench.drive.history import History
from bench.drive.runner import Run, RunHooks, RunSpec, prepare
from bench.judge.checker import for_run
from bench.workload.faults import NEMESIS_CONN, RACE_CONN
from bench.workload.generator import generate
from bench.workload.scenario import loads
from rollup.migrations import Target
from rollup.units import HOUR, US
from tests.helpers import request

BASE = """
[scenario]
name = "faults"
seed = {seed}
duration = "{duration}"
[tenants]
workspaces = 2
issues = 4
zones = ["America/Los_Angeles", "Asia/Kolkata"]
[rates]
tasks_per_hour = 6.0
[operations]
per_hour = 1.0
[pipeline]
check_every = "3h"
sessions = 2
[zones]
view = ["UTC"]
[faults]
{faults}
"""


def scenario(faults: str, seed: int = 1, duration: str = "6h") -> str:
    return BASE.format(seed=seed, duration=duration, faults=faults)


def run_open(server, text: str, tmp_path, target: str = "reference"):
    """Run a scenario, leaving its database open for the test to look into (the caller drops it)."""
    sc, tgt = loads(text), Target.resolve(target)
    db = prepare(server, sc, tgt)
    r = Run(RunSpec(sc, text, tgt, tmp_path / "h.jsonl"), db, RunHooks(judge=for_run(sc, tgt.reads.exact)), server)
    try:
        r.execute(generate(sc))
    finally:
        r.close()
    return r, db, History.load(tmp_path / "h.jsonl")


def ops_of(history: History, name: str) -> list[dict]:
    return history.ops.filter(history.ops["f"] == name).to_dicts()


def test_late_transactions_commit_after_ticks_and_rolled_back_ones_leave_nothing(server, tmp_path):
    text = scenario("late_commits = 40\ncommit_latency = [\"6m\", \"20m\"]\nrollback_share = 0.3")
    r, db, h = run_open(server, text, tmp_path)
    try:
        ops = h.ops.to_dicts()
        ends = {o["i"]: o for o in ops if o["f"] in ("commit", "rollback")}
        assert {o["f"] for o in ends.values()} == {"commit", "rollback"}
        late_tasks = {}  # task id -> how its transaction ended
        for begin in (o for o in ops if o["f"] == "begin"):
            end = next(o for o in ops if o["i"] > begin["i"] and o["f"] in ("commit", "rollback")
                       and o["p"] == begin["p"])
            # a tick ran while the transaction was open: its commit is later than that tick's start
            assert any(o["f"] == "tick" and begin["i"] < o["i"] < end["i"] for o in ops)
            task = next(o for o in ops if o["f"] == "task" and o["p"] == begin["p"] and o["i"] > begin["i"])
            late_tasks[task["id"]] = end["f"]
        with db.connect() as c:
            present = {str(x) for (x,) in c.execute("SELECT id FROM agent_task_queue WHERE id = ANY(%s::uuid[])",
                                                    (list(late_tasks),))}
        assert present == {t for t, how in late_tasks.items() if how == "commit"} and present
    finally:
        db.drop()


def test_a_cancelled_tick_really_waited_on_its_lock(server, tmp_path):
    r, db, h = run_open(server, scenario("cancels = 30"), tmp_path)
    try:
        blocked = ops_of(h, "wait_blocked")
        assert blocked and all(o["outcome"] == "ok" for o in blocked)
        victims = [o for o in ops_of(h, "tick") if o["conn"] == NEMESIS_CONN]
        assert victims and all(o["outcome"] == "fail" for o in victims)
        codes = {o["err"][:5] for o in victims}
        assert codes <= {"57014", "57P01"} and codes  # cancelled or timed out; terminated
        assert not r.history.failures.get("tick")  # the nemesis's doing: not counted against the target
    finally:
        db.drop()


def test_writes_race_a_tick_held_between_its_read_and_its_write(server, tmp_path):
    r, db, h = run_open(server, scenario("races = 40", seed=6, duration="8h"), tmp_path, "hardened")
    try:
        ops = h.ops.to_dicts()
        raced = 0
        for w in (o for o in ops if o["f"] == "wait_blocked" and o["conn"] == RACE_CONN):
            assert w["outcome"] == "ok", w  # the tick was seen waiting on the lock on its rollup rows
            done = next(o for o in ops if o["i"] > w["i"] and o["f"] == "await")
            writes = [o for o in ops if w["i"] < o["i"] < done["i"] and o["f"] in ("usage", "delete_usage")]
            assert writes and all(o["outcome"] == "ok" for o in writes)  # committed while the tick waited
            tick = next(o for o in ops if o["f"] == "tick" and o["conn"] == RACE_CONN and o["i"] < w["i"]
                        and o["i"] > w["i"] - 4)
            assert tick["outcome"] == "ok"  # and then it finished: an ordinary tick, judged as such
            raced += 1
        assert raced
        assert all(c.hour.summary == {"missing": 0, "extra": 0, "mismatched": 0} for c in r.checks)
    finally:
        db.drop()


def test_a_restart_really_restarts_the_server(server, tmp_path):
    with psycopg.connect(server.admin_conninfo, autocommit=True) as c:
        before = c.execute("SELECT pg_postmaster_start_time()").fetchone()[0]
    r, db, h = run_open(server, scenario("restarts = 12", seed=2), tmp_path)
    try:
        restarts = ops_of(h, "restart")
        assert restarts and all(o["outcome"] == "ok" for o in restarts)
        with db.connect() as c:
            after = c.execute("SELECT pg_postmaster_start_time()").fetchone()[0]
        assert after > before
    finally:
        db.drop()


def test_a_pause_stops_the_ticks_and_swallows_the_checks_it_spans(server, tmp_path):
    text = scenario("pauses = 6\npause_length = [\"2h\", \"4h\"]", seed=3, duration="12h")
    r, db, h = run_open(server, text, tmp_path)
    try:
        pauses = ops_of(h, "pause")
        assert pauses
        ticks = [o["at"] for o in ops_of(h, "tick")]
        checks = [o["at"] for o in ops_of(h, "check")]
        for p in pauses:
            assert not [t for t in ticks if p["at"] < t < p["until"]]  # no tick while paused
            assert not [c for c in checks[:-1] if p["at"] <= c < p["until"]]
            assert [t for t in ticks if t >= p["until"]]  # and the cadence came back
        assert len(checks) < 4  # 12 h checked every 3 h: at least one swallowed
    finally:
        db.drop()


def test_long_pauses_outlast_the_queue_retention_and_end_in_time_to_catch_up():
    text = scenario('long_pauses = 0.3\nlong_pause_length = ["9d", "10d"]', seed=2, duration="14d")
    ops = generate(loads(text))
    pauses = [o for o in ops if o.name == "pause"]
    checks = [o.at for o in ops if o.name == "check"]
    assert pauses, "no long pause drawn"
    for p in pauses:
        assert 9 * 24 * HOUR <= p.get("until") - p.at <= 10 * 24 * HOUR  # past 7 days' retention and a day's catch-up
        days = -(-(p.get("until") - p.at) // (24 * HOUR))
        assert checks[-1] - p.get("until") >= (days + 2) * 5 * 60 * US  # a tick a day's catch-up, before the end


# The generator's long pause reaching B5's ground is the bench's: B5 itself is reproduced on both servers by
# scenarios/repro/B5.toml.
@pytest.mark.one_server
def test_a_long_pause_prunes_dirty_rows_unread_on_the_reference_and_attribution_says_b5(server, tmp_path):
    from bench.orchestrate.execute import run_scenario

    text = scenario('long_pauses = 1\nlong_pause_length = ["9d", "9d"]', seed=5, duration="11d")
    text = text.replace("per_hour = 1.0", "per_hour = 1.0\n[operations.weights]\ndelete_usage = 5")
    verdict = run_scenario(server, request(text, "reference", tmp_path))
    h = History.load(next(tmp_path.glob("*.history.jsonl")))
    (pause,) = ops_of(h, "pause")
    assert not [o for o in ops_of(h, "tick") if pause["at"] < o["at"] < pause["until"]]  # nothing ticked
    assert verdict["attribution"]["by_id"].get("B5"), verdict["attribution"]  # keys whose dirty rows were pruned
    assert verdict["attribution"]["unexplained_keys"] == 0


def test_a_terminated_or_cancelled_tick_is_not_taken_for_a_lost_error(server, tmp_path):
    # No handler runs when a backend is cancelled or terminated: an empty last_error then is no target's fault (B8
    # is an error the tick caught and lost).
    from bench.orchestrate.execute import run_scenario

    text = scenario("cancels = 16", seed=2, duration="12h")
    verdict = run_scenario(server, request(text, "hardened", tmp_path))
    h = History.load(next(tmp_path.glob("*.history.jsonl")))
    errors = {(o["err"] or "")[:5] for o in ops_of(h, "tick") if o["outcome"] == "fail"}
    assert {"57P01", "57014"} <= errors, errors  # both kinds happened
    assert "B8" not in verdict["attribution"]["state"], verdict["attribution"]


@pytest.mark.parametrize("target", ["reference", "hardened"])
def test_a_tick_that_waits_out_its_lock_timeout_fails_where_its_handler_can_record_it(server, tmp_path, target):
    # 55P03 is caught by WHEN OTHERS: the reference's re-raise loses the handler's write (B8), hardened keeps it.
    from bench.orchestrate.execute import rejudge, run_scenario
    from bench.judge.verdict import evaluate

    text = scenario("lock_waits = 16", seed=3, duration="12h")
    verdict = run_scenario(server, request(text, target, tmp_path))
    path = next(tmp_path.glob("*.history.jsonl"))
    h = History.load(path)
    ops = h.ops.to_dicts()
    waited = [o for o in ops if o["f"] == "wait_blocked" and o["conn"] == NEMESIS_CONN]
    missed = [(o["at"], o["err"]) for o in waited if o["outcome"] != "ok"]
    assert waited and not missed  # seen waiting on the rollup rows' lock
    ticks = [o for o in ops if o["f"] == "tick" and o["conn"] == NEMESIS_CONN]
    assert len(ticks) == len(waited)
    if target == "reference":
        assert all(o["outcome"] == "fail" and o["err"].startswith("55P03") for o in ticks), ticks
        assert "B8" in verdict["attribution"]["state"], verdict["attribution"]
    else:  # the failure returned as -1, recorded: nothing lost, nothing counted against the target
        assert all(o["outcome"] == "ok" and o["r"] == -1 for o in ticks), ticks
        assert "B8" not in verdict["attribution"]["state"] and verdict["ok"], verdict
    # `rollup-bench check` rebuilds the tally from the history: the nemesis's ticks count no more there than live
    again = evaluate(rejudge(path))
    assert (again["failures"], again["ok"], again["attribution"]) == (
        verdict["failures"], verdict["ok"], verdict["attribution"])


def test_a_backfill_runs_between_the_writes(server, tmp_path):
    r, db, h = run_open(server, scenario("backfills = 12\nlate_commits = 12", seed=4), tmp_path)
    try:
        backfills = ops_of(h, "backfill")
        assert backfills and all(o["outcome"] == "ok" and o["r"] > 0 for o in backfills)
        assert not r.history.failures  # nothing failed that the target is to answer for
    finally:
        db.drop()


def test_sessions_run_in_their_drawn_zones_and_the_server_default_is_drawn_too(server, tmp_path):
    text = scenario("", seed=5).replace('view = ["UTC"]', 'view = ["UTC"]\nsessions = "random"')
    sc = loads(text)
    zones = sc.session_zones()
    assert zones == loads(text).session_zones() and zones["server"]
    assert loads(text.replace("seed = 5", "seed = 6")).session_zones() != zones
    db = prepare(server, sc, Target.resolve("reference"))
    try:
        db.set_zones(zones)
        for role, zone in zones.items():
            if role == "server":
                continue
            with db.connect(role=role) as c:
                assert c.execute("SHOW TimeZone").fetchone()[0] == (zone or zones["server"])
        with db.connect() as c:  # the bench's own sessions stay in UTC
            assert c.execute("SHOW TimeZone").fetchone()[0] == "UTC"
    finally:
        db.drop()


def test_boundary_timestamps_land_exactly_on_each_kind_of_edge():
    text = scenario("").replace("tasks_per_hour = 6.0", "tasks_per_hour = 20.0\nboundary_share = 0.5")
    text = text.replace('duration = "6h"', 'duration = "10d"')
    sc = loads(text.replace("seed = 1", "seed = 1\nstart = 2026-03-05T00:00:00Z"))  # DST in Los Angeles: Mar 8
    ops = [o for o in generate(sc) if o.name == "usage" and o.value["created_at"] is not None]
    edges = [o.value["created_at"] for o in ops]
    assert edges and all(e <= o.at for e, o in zip(edges, ops))
    assert any(e % HOUR == 0 for e in edges)
    assert any(e % (900 * US) == 0 and e % HOUR for e in edges)  # a quarter that is not an hour
    kolkata_midnight = [e for e in edges if e % HOUR and
                        datetime.fromtimestamp(e / US, UTC).astimezone(ZoneInfo("Asia/Kolkata")).time().hour == 0]
    assert kolkata_midnight  # local midnight in a half-hour zone: no UTC hour or quarter edge
    dst = datetime(2026, 3, 8, 10, tzinfo=UTC).timestamp() * US
    assert dst in edges  # the instant Los Angeles springs forward


@pytest.mark.parametrize("target", ["reference", "hardened"])
def test_steady_drawn_zones_and_edges_converge_and_replay(server, tmp_path, target):
    text = scenario("", seed=7, duration="1d").replace('view = ["UTC"]', 'view = ["UTC", "Asia/Kolkata"]\nsessions = "random"')
    text = text.replace("tasks_per_hour = 6.0", "tasks_per_hour = 6.0\nboundary_share = 0.3")
    r, db, h = run_open(server, text, tmp_path, target)
    db.drop()
    assert h.header["session_zones"] == loads(text).session_zones()
    for c in r.checks:
        assert c.hour.summary == {"missing": 0, "extra": 0, "mismatched": 0}, c.hour.summary
    assert not r.history.failures


def test_faults_are_refused_in_a_scripted_scenario():
    from bench.workload.scenario import ScenarioError

    with pytest.raises(ScenarioError, match="scripted scenario"):
        loads(scenario("restarts = 1") + '\n[[step]]\ndo = "tick"\nat = "1m"\n')


@pytest.mark.slow
def test_a_history_with_every_fault_replays_byte_for_byte(server, tmp_path):
    from bench.drive.runner import run

    text = scenario("late_commits = 20\ncancels = 8\nraces = 8\nlock_waits = 4\nrestarts = 4\npauses = 2\n"
                    "pause_length = [\"30m\", \"1h\"]\nbackfills = 4", seed=8, duration="12h")
    text = text.replace('view = ["UTC"]', 'view = ["UTC"]\nsessions = "random"')
    sc, tgt = loads(text), Target.resolve("reference")
    first = run(server, RunSpec(sc, text, tgt, tmp_path / "a.jsonl"), generate(sc), RunHooks(judge=for_run(sc, tgt.reads.exact)))
    kinds = set(History.load(tmp_path / "a.jsonl").ops.get_column("f").to_list())
    assert {"begin", "commit", "cancel", "wait_blocked", "restart", "pause", "backfill"} <= kinds
    again = run(server, RunSpec(sc, text, tgt, tmp_path / "b.jsonl"), History.load(tmp_path / "a.jsonl").replay(), RunHooks(replaying=True, judge=for_run(sc, tgt.reads.exact)))
    assert again.history_sha256 == first.history_sha256
    assert [c.hour.summary for c in again.checks] == [c.hour.summary for c in first.checks]
