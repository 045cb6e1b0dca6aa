"""[cover]: what a generated run holds by construction whatever its seed draws (bench/workload/faults.py), the
coverage the verdict reads back from the history (bench/judge/coverage.py), and the gate's generated runs built
on them killing three mutants no one tuned the workload to: a bucket that truncates in the session's zone, a
tick without the 5-minute allowance, a drain that deletes queue rows of any version."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bench.cli.gate import GENERATED, gate_runs
from bench.drive.history import frame_from_ops
from bench.drive.runner import RunHooks, RunSpec, run
from bench.judge import coverage
from bench.judge.checker import for_run
from bench.judge.verdict import evaluate
from bench.workload import zones
from bench.workload.faults import REQUEUE_CONN
from bench.workload.generator import generate
from bench.workload.ops import Op
from bench.workload.scenario import ODD_ROLES, ScenarioError, load, loads
from rollup.migrations import MIGRATIONS_ROOT, Target
from rollup.pipeline import ALLOWANCE

ROOT = Path(__file__).resolve().parent.parent
GATE = ROOT / "scenarios" / "gate"
TARGETS = Path(__file__).parent / "targets"
MINUTE = 60_000_000


def short(name: str, seed: int = 1, hours: int = 8):
    """A gate scenario cut to `hours` (its [cover] still placed in the first half), checked twice."""
    sc = load(GATE / f"{name}.toml")
    return replace(sc, seed=seed, duration=timedelta(hours=hours),
                   pipeline=replace(sc.pipeline, check_every=timedelta(hours=hours // 2)))


def late_commits(ops: list[Op], every: int, start: int) -> list[tuple[int, int]]:
    """(begin, commit) times of the stream's held transactions that commit with a tick boundary in between."""
    begun, out = {}, []
    for op in ops:
        if op.name == "begin":
            begun[op.session] = op.at
        elif op.name == "commit" and op.session in begun:
            b = begun.pop(op.session)
            if (op.at - start) // every > (b - start) // every:
                out.append((b, op.at))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
@pytest.mark.parametrize("name", ["gate-steady", "gate-faults"])
def test_cover_places_what_it_asks_for_on_every_seed(name, seed):
    sc = short(name, seed)
    ops = generate(sc)
    start, every = ops[0].at, sc.pipeline.tick_every // timedelta(microseconds=1)
    late = late_commits(ops, every, start)
    assert sum(c - b <= ALLOWANCE - 30_000_000 for b, c in late) >= sc.cover.late_commits
    assert sum(c - b > ALLOWANCE for b, c in late) >= sc.cover.late_commits_past
    held = [op for op in ops if op.name == "tick" and op.get("conn") == REQUEUE_CONN]
    assert len(held) >= sc.cover.requeues
    for tick in held:  # the tick falls between two boundaries of the cadence, so no regular tick covers its work
        assert (tick.at - start) % every not in (0, every - 1)
    cancels = [op.at for op in ops if op.name == "cancel"]
    # as many requeues as [cover] asks for come before the first cancel (L1 would stop a faithful target's ticks)
    assert not cancels or min(cancels) > held[sc.cover.requeues - 1].at
    drawn = sc.session_zones()
    end = sc.start + sc.duration
    assert all(o % timedelta(hours=1) for r in ODD_ROLES for o in zones.offsets(drawn[r], sc.start, end))


def test_the_gate_composes_short_covered_runs_within_steadys_work():
    runs = gate_runs()
    generated = [(load(p), s) for p, s in runs if p.parent == GATE]
    assert [(sc.name, s) for sc, s in generated] == [(n, s) for n, seeds in GENERATED.items() for s in seeds]
    assert all(sc.cover.odd_zones for sc, _ in generated)
    everyday = [sc for sc, _ in generated if sc.name in ("gate-steady", "gate-faults")]
    assert sum((sc.duration for sc in everyday), timedelta()) <= load(ROOT / "scenarios/steady.toml").duration
    assert all(sc.cover.late_commits and sc.cover.requeues for sc in everyday)
    assert any(sc.cover.late_commits_past for sc in everyday)
    assert any(sc.cover.long_pauses and sc.duration > timedelta(days=7) for sc, _ in generated)
    assert sum(p.parent.name in ("repro", "peer") for p, _ in runs) == 28


@pytest.mark.parametrize("text, error", [
    ("[cover]\nrequeues = -1\n", "cover.requeues"),
    ("[cover]\nlong_pauses = 2\n", "cover.long_pauses"),
    ("[cover]\nlate = 1\n", "cover.late: unknown key"),
    ("[cover]\nrequeues = 1\n[pipeline]\nscheduler = true\n", "fixed tick cadence"),
    ("[cover]\nodd_zones = true\n[[step]]\ndo = 'tick'\nat = '1h'\n", "[cover] is for generated ones"),
])
def test_cover_errors_name_the_key(text, error):
    with pytest.raises(ScenarioError, match=None) as e:
        loads("[scenario]\nname = 'x'\n" + text, source="s.toml")
    assert error in str(e.value) and str(e.value).startswith("s.toml:")


def test_coverage_reads_late_commits_and_requeues_from_the_history():
    sc = loads("[scenario]\nname = 'x'\n[cover]\nlate_commits = 1\nlate_commits_past = 1\nrequeues = 1\n")
    t = 1_000 * MINUTE
    ops = [Op("begin", t, 200, {}), Op("task", t, 200, {"id": "a"}), Op("tick", t + MINUTE, 0, {"conn": "pool"}),
           Op("commit", t + 2 * MINUTE, 200, {}),  # within the allowance, across a tick
           Op("begin", t, 201, {}), Op("usage", t, 201, {"task_id": "a"}), Op("tick", t + 6 * MINUTE, 0, {}),
           Op("commit", t + 9 * MINUTE, 201, {}),  # past it
           Op("begin", t, 202, {}), Op("usage", t, 202, {}), Op("rollback", t + 3 * MINUTE, 202, {}),
           Op("begin", t, 203, {}), Op("commit", t + 30_000_000, 203, {}),  # no tick while open: not late
           Op("tick", t, 0, {"conn": REQUEUE_CONN, "wait": False}), Op("wait_blocked", t, 0, {"conn": REQUEUE_CONN}),
           Op("reassign_runtime", t, 1, {"id": "a"}), Op("await", t, 0, {"conn": REQUEUE_CONN}),
           Op("tick", t, 0, {"conn": REQUEUE_CONN, "wait": False}), Op("wait_blocked", t, 0, {"conn": REQUEUE_CONN}),
           Op("await", t, 0, {"conn": REQUEUE_CONN})]  # held, but nothing raced it
    for i, op in enumerate(ops):
        op.index = i
    c = coverage.of(frame_from_ops(ops), {}, sc)
    assert c["late_commits"] == {"within": 1, "past": 1, "not_committed": 2} and c["requeues"] == 1
    check = coverage.check(c, sc)
    assert check["ok"], check
    check = coverage.check(c, replace(sc, cover=replace(sc.cover.asking(requeues=2), odd_zones=True)))
    assert not check["ok"] and "1 of 2 requeue(s)" in check["observed"] and "tick not in a non-whole-hour zone" \
        in check["observed"]


def judge(server, tmp_path: Path, target: str, sc) -> dict:
    tgt = Target.resolve(target)
    return evaluate(run(server, RunSpec(sc, "", tgt, tmp_path / "h.jsonl"), generate(sc), RunHooks(judge=for_run(sc, tgt.reads.exact))))


def failed(v: dict) -> set[str]:
    return {c["name"] for c in v["checks"] if not c["ok"]}


def chain(*dirs: str) -> str:
    return ",".join(str(MIGRATIONS_ROOT / d) if "/" not in d else str(TARGETS / d.split("/")[1]) for d in dirs)


@pytest.mark.one_server
@pytest.mark.parametrize("target, broken", [
    ("reference", set()),
    ("hardened", set()),
    (chain("reference", "targets/bucket_session_zone"), {"hour-grain drift"}),
    (chain("reference", "targets/tick_no_allowance"), {"hour-grain drift"}),
    (chain("reference", "hardened", "targets/drain_any_version"), {"hour-grain drift"}),
], ids=["reference", "hardened", "bucket_session_zone", "tick_no_allowance", "drain_any_version"])
def test_the_gates_everyday_run_kills_mutants_no_one_tuned_it_to(server, tmp_path, target, broken):
    v = judge(server, tmp_path, target, short("gate-steady"))
    assert broken <= failed(v), v["checks"]
    if not broken:
        assert v["ok"], v["checks"]
        late = v["coverage"]["late_commits"]
        assert late["within"] >= 2 and v["coverage"]["requeues"] >= 2
        assert {v["coverage"]["zones"][r]["class"] for r in ODD_ROLES} == {coverage.ODD}


@pytest.mark.one_server
def test_the_coverage_check_fires_when_a_covered_fault_does_not_take(server, tmp_path):
    """A tick that does nothing is never held at its upsert: the requeues [cover] asked for did not happen."""
    sc = short("gate-steady", hours=6)
    v = judge(server, tmp_path, chain("reference", "targets/noop_tick"), sc)
    check = next(c for c in v["checks"] if c["name"] == "coverage")
    assert not check["ok"] and f"0 of {sc.cover.requeues} requeue(s)" in check["observed"]


@pytest.mark.slow
@pytest.mark.one_server
@pytest.mark.parametrize("equal, earlier, killed", [(0, 0, False), (1, 0, True), (0, 1, True)],
                         ids=["dated-later-only", "equal", "earlier"])
def test_a_drain_by_key_and_enqueued_at_dies_only_of_requeues_dated_at_or_before_what_the_tick_read(
        server, tmp_path, equal, earlier, killed):
    """drain_key_enqueued_at (over hardened) deletes what the held tick read by key and enqueued_at, whatever the
    row's version: re-enqueues dated later than the enqueue it read leave it converged; one dated at it or before
    it (the enqueue keeps the greater time) is lost. The gate's fault run asks for each."""
    sc = short("gate-faults")
    sc = replace(sc, faults=replace(sc.faults, rates=dict.fromkeys(sc.faults.rates, 0.0)),
                 cover=sc.cover.asking(requeues_equal=equal, requeues_earlier=earlier))
    v = judge(server, tmp_path, chain("reference", "hardened", "targets/drain_key_enqueued_at"), sc)
    assert v["coverage"]["requeued"]["equal"] >= equal and v["coverage"]["requeued"]["earlier"] >= earlier
    assert ("hour-grain drift" in failed(v)) == killed, v["checks"]


def short_steady(hours: int = 8):
    """scenarios/steady.toml cut to `hours` (its [cover] placed in the first half), checked twice."""
    sc = load(ROOT / "scenarios" / "steady.toml")
    return replace(sc, duration=timedelta(hours=hours),
                   pipeline=replace(sc.pipeline, check_every=timedelta(hours=hours // 2)))


def test_the_main_job_asks_for_what_the_gates_everyday_run_asks_for():
    steady, gate = load(ROOT / "scenarios" / "steady.toml").cover, load(GATE / "gate-steady.toml").cover
    assert steady.odd_zones and steady.late_commits >= gate.late_commits and steady.requeues >= gate.requeues


@pytest.mark.slow
@pytest.mark.one_server
@pytest.mark.parametrize("target, broken", [
    ("reference", set()),
    (chain("reference", "targets/bucket_session_zone"), {"hour-grain drift"}),
    (chain("reference", "targets/tick_no_allowance"), {"hour-grain drift"}),
], ids=["reference", "bucket_session_zone", "tick_no_allowance"])
def test_the_main_job_kills_a_bucket_in_the_sessions_zone_and_a_tick_without_its_allowance(
        server, tmp_path, target, broken):
    v = judge(server, tmp_path, target, short_steady())
    assert broken <= failed(v), v["checks"]
    if not broken:
        assert v["ok"], v["checks"]
        assert v["coverage"]["late_commits"]["within"] >= 4 and v["coverage"]["requeues"] >= 2
        assert {v["coverage"]["zones"][r]["class"] for r in ODD_ROLES} == {coverage.ODD}
