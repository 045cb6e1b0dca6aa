"""The registry of operation kinds (bench/workload/kinds.py): every entry consistent with what it declares, the history's
columns unchanged by it, and a kind added by one entry — `move_usage`, a usage row handed to another task —
working everywhere: in scripts, in generated workloads, in the client, the oracle and the attribution."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench.orchestrate.execute import ops_for
from bench.drive.runner import ACTIONS, RunHooks, RunSpec, run
from bench.judge.checker import for_run
from bench.judge.verdict import evaluate
from bench.workload.kinds import (BREAKER, ENTITY, FAULT, KINDS, OLD_NAMES, PIPELINE, USAGE, WEIGHTED, WRITE, Refs,
                                  acting_on, deleting, effects, repointing)
from bench.workload.ops import CATALOG, FIELDS
from bench.workload.scenario import loads
from bench.workload.steps import STEPS, uid
from rollup.migrations import Target

# The history's columns, as every recorded history has them: a new kind must reuse them or add at the end.
HISTORY_FIELDS = (
    "id", "name", "slug", "email", "timezone", "workspace_id", "provider", "daemon_id", "runtime_id", "title",
    "project_id", "number", "creator_id", "agent_id", "issue_id", "task_id", "model", "input", "output",
    "cache_read", "cache_write", "created_at", "new_task_id", "new_provider", "new_model", "new_created_at", "conn",
    "wait", "timeout_ms", "how", "target", "months_back", "force", "to", "until", "final")


def test_history_columns_are_unchanged():
    assert FIELDS == HISTORY_FIELDS


@pytest.mark.parametrize("name", sorted(KINDS))
def test_each_entry_is_consistent(name):
    k = KINDS[name]
    assert CATALOG[name] == k.fields and k.group in ("entity", "usage", "write", "breaker", "pipeline", "fault")
    if k.sql:
        assert set(re.findall(r"%\((\w+)\)s", k.sql)) <= set(k.fields)
    if k.step is not None:  # a step, its required keys given, becomes a value of exactly the kind's fields
        args = {key: "x" if default is None else default for key, default in k.step.items()}
        value = k.build(args, Refs(uid, 0, lambda text: 60_000_000))
        assert set(value) == set(k.fields), value
        assert STEPS[name] == k.step
    if k.weight is not None:
        assert k.mutate is not None and k.group in ("write", "breaker")
    assert k.same_as is None or set(k.fields) <= set(KINDS[k.same_as].fields)
    assert (name in ACTIONS) == (k.group == "fault"), "each fault kind, and only a fault kind, has a runner action"


def test_one_vocabulary():
    assert set(OLD_NAMES.values()) <= set(WEIGHTED) and not set(OLD_NAMES) & set(KINDS)
    assert list(WEIGHTED)[:13] == [  # the order generated streams draw kinds in
        "delete_usage", "delete_task", "delete_issue", "delete_agent", "delete_runtime", "delete_project",
        "delete_workspace", "reassign_runtime", "link_issue", "change_issue_project", "change_agent",
        "change_usage_key", "update_no_bump"]


MOVED = """
[scenario]
name = "move_usage"
start = 2026-03-02T10:00:00Z
duration = "3h"
[operations]
breakers = true
[[step]]
do = "task"
at = "10m"
name = "t1"
agent = "A.a1"
issue = "A.i1"
[[step]]
do = "task"
at = "10m"
name = "t2"
agent = "A.a2"
issue = "A.i2"
[[step]]
do = "usage"
at = "11m"
task = "t1"
input = 100
[[step]]
do = "tick"
at = "2h"
[[step]]
do = "move_usage"
at = "2h1m"
task = "t1"
new_task = "t2"
[[step]]
do = "ticks"
at = "2h10m"
until = "2h20m"
[[step]]
do = "check"
at = "2h21m"
[expect.reference]
hour_drift = "some"
report_drift = "some"
"""


def verdict(server, text: str, target: str, tmp_path: Path) -> dict:
    sc = loads(text)
    tgt = Target.resolve(target)
    result = run(server, RunSpec(sc, text, tgt, tmp_path / f"{target}.jsonl"), ops_for(sc), RunHooks(judge=for_run(sc, tgt.reads.exact)))
    return evaluate(result)


@pytest.mark.parametrize("target", ["reference", "hardened"])
def test_a_moved_usage_row_is_applied_modelled_and_explained(server, tmp_path, target):
    """The reference has no UPDATE trigger on task_usage (B13): the row's tokens stay with t1's agent and
    project, which the oracle (modelling the move as a re-key) says belong to t2's; hardened follows the row."""
    v = verdict(server, MOVED, target, tmp_path)
    assert v["operations"]["by_kind"]["move_usage"] == 1 and "move_usage" not in v["failures"]
    assert v["ok"], [c for c in v["checks"] if not c["ok"]]
    if target == "reference":
        assert v["drift"]["extra"] and v["drift"]["missing"]  # t1's bucket stays, t2's never comes
        assert v["attribution"]["by_id"] == {"B13": v["attribution"]["keys"]}
        assert v["attribution"]["unexplained_keys"] == 0
        assert any(o["f"] == "move_usage" for b in v["bad_keys"] for o in b["ops"])  # both sides touched


GENERATED = """
[scenario]
name = "moves"
seed = {seed}
duration = "1d"
[tenants]
workspaces = 2
[operations]
per_hour = 4.0
breakers = true
[operations.weights]
move_usage = 3
[pipeline]
check_every = "12h"
[zones]
view = ["UTC"]
"""


def test_generated_workloads_draw_it_and_hardened_follows(server, tmp_path):
    sc = loads(GENERATED.format(seed=3))
    moves = [op for op in ops_for(sc) if op.name == "move_usage"]
    assert len(moves) > 10 and all(op.get("new_task_id") != op.get("task_id") for op in moves)
    v = verdict(server, GENERATED.format(seed=3), "hardened", tmp_path)
    assert v["ok"] and v["operations"]["by_kind"]["move_usage"] == len(moves), [c for c in v["checks"] if not c["ok"]]


def test_every_write_declares_its_effects_or_is_the_same_as_one_that_does():
    """The oracle, the checker's `touching` and attribution read what a write does from here: a write without
    declared effects would be invisible to all three."""
    writes = [k for k in KINDS.values() if k.group in (WRITE, BREAKER, USAGE) and k.name != "task"]
    for k in writes:
        assert (k.effects is None) != (k.same_as is None), k.name  # its own, or another's: never both, never none
        assert effects(k.name) is not None
        e = effects(k.name)
        assert e.requires and any((e.repoints, e.deletes, e.usage)), k.name
        if e.repoints:
            assert e.repoints[1] in k.fields and "id" in k.fields, k.name
    assert all(k.effects is None for k in KINDS.values() if k.group in (ENTITY, PIPELINE, FAULT))
    assert repointing("task", "runtime_id") == ["reassign_runtime"] and "delete_workspace" in deleting()
    assert acting_on("issue") == ["delete_issue", "change_issue_project"]


def test_mutations_and_strikes_use_only_the_generators_typed_face():
    """kinds.py's mutations and the fault strikes read the generator through `model.Face`, never its dictionaries:
    every attribute they use of it (`g.…`, `gen.…`) is declared there."""
    import ast
    import inspect

    from bench.workload import kinds, strikes
    from bench.workload.model import Face

    declared = {n for n in dir(Face) if not n.startswith("__")} | set(Face.__annotations__)
    for module, name in ((kinds, "g"), (strikes, "gen")):
        used = {node.attr for node in ast.walk(ast.parse(inspect.getsource(module)))
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == name}
        assert used and used <= declared, (module.__name__, used - declared)
