"""Scripted scenarios: a small named world and a list of steps, for reproductions and peer cases.

A step is one operation of the workload (a usage report, a delete, a re-keying…), a pipeline action (a tick,
a backfill, a migration) or a fault (a transaction held open, a row lock held by another session, a cancelled
or terminated tick, a server restart), at an offset from the scenario's start. Entities are named — workspace
`A` and `B`, each with runtimes `r1 r2 r3` (agents use `r1`, `r2` and `r3` are free), agents `a1 a2`, projects
`p1 p2`, issues `i1` (in `p1`), `i2` (in `p2`) and `i3` (no project), written `A.a1` — and tasks are named by
the steps that create them. Ids are derived from names, so a history reads like its script.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from bench.ops import Op

NAMESPACE = uuid.UUID("6f0b8a52-6a8e-4b0e-9a55-3d1f2b0c7e11")
WORKSPACES = ("A", "B")
# kind -> (names, extra fields); issues name their project.
WORLD = {
    "runtime": ("r1", "r2", "r3"),
    "agent": ("a1", "a2"),
    "project": ("p1", "p2"),
    "issue": ("i1", "i2", "i3"),
}
ISSUE_PROJECT = {"i1": "p1", "i2": "p2", "i3": None}
HELD = 100  # sessions named by steps are numbered from here, apart from the client's pool


def uid(name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, name))


def world(at: int) -> list[Op]:
    """The named world, created at `at`."""
    ops = []
    for ws in WORKSPACES:
        ops.append(Op("workspace", at, 0, {"id": uid(ws), "name": f"Workspace {ws}", "slug": f"ws-{ws.lower()}"}))
        ops.append(Op("user", at, 0, {"id": uid(f"{ws}.u1"), "name": f"User {ws}",
                                      "email": f"user.{ws.lower()}@example.com", "timezone": None}))
        for r in WORLD["runtime"]:
            ops.append(Op("runtime", at, 0, {"id": uid(f"{ws}.{r}"), "workspace_id": uid(ws), "name": f"{ws}-{r}",
                                             "provider": "anthropic", "daemon_id": f"daemon-{ws}-{r}"}))
        for a in WORLD["agent"]:
            ops.append(Op("agent", at, 0, {"id": uid(f"{ws}.{a}"), "workspace_id": uid(ws),
                                           "runtime_id": uid(f"{ws}.r1"), "name": f"{ws}-{a}"}))
        for p in WORLD["project"]:
            ops.append(Op("project", at, 0, {"id": uid(f"{ws}.{p}"), "workspace_id": uid(ws), "title": f"{ws} {p}"}))
        for n, i in enumerate(WORLD["issue"], 1):
            project = ISSUE_PROJECT[i]
            ops.append(Op("issue", at, 0, {
                "id": uid(f"{ws}.{i}"), "workspace_id": uid(ws), "project_id": uid(f"{ws}.{project}") if project else None,
                "number": n, "title": f"{ws} {i}", "creator_id": uid(f"{ws}.u1")}))
    return ops


# Step kinds: the keys each takes (with defaults; None = required) and the operation it becomes.
USAGE_KEY = {"task": None, "provider": "anthropic", "model": "claude-sonnet-4"}
TOKENS = {"input": 100, "output": 0, "cache_read": 0, "cache_write": 0}
STEPS: dict[str, dict] = {
    "task": {"name": None, "agent": "A.a1", "issue": "", "runtime": ""},
    "usage": {**USAGE_KEY, **TOKENS, "created_at": ""},
    "delete_usage": dict(USAGE_KEY),
    "delete_task": {"task": None},
    "delete_issue": {"issue": None},
    "delete_agent": {"agent": None},
    "delete_runtime": {"runtime": None},
    "delete_project": {"project": None},
    "delete_workspace": {"workspace": None},
    "reassign_runtime": {"task": None, "runtime": None},
    "link_issue": {"task": None, "issue": None},
    "change_issue_project": {"issue": None, "project": ""},
    "change_agent": {"task": None, "agent": None},
    "change_usage_key": {**USAGE_KEY, "new_task": "", "new_provider": "", "new_model": "", "new_created_at": ""},
    "update_no_bump": {**USAGE_KEY, **TOKENS},
    "tick": {"conn": "pool", "wait": True, "timeout": ""},
    "ticks": {"until": None, "every": "5m", "conn": "pool"},  # a tick at `at`, then every `every` until `until`
    "await": {"conn": None},
    "wait_blocked": {"conn": None},
    "cancel": {"conn": None, "how": "backend"},
    "begin": {}, "commit": {}, "rollback": {},
    "lock": {"target": "rollup", "task": ""},
    "backfill": {"months_back": 0, "force": False, "conn": "backfill", "wait": True},
    "migrate": {"to": ""},
    "restart": {},
    "check": {"final": False},
}
CANCEL_HOW = ("backend", "terminate")
LOCK_TARGETS = ("rollup", "state", "usage")
NEEDS_SESSION = ("begin", "commit", "rollback", "lock")


@dataclass(frozen=True)
class Step:
    do: str
    at: timedelta
    args: dict = field(default_factory=dict)
    session: str = ""  # a named session whose transaction stays open between steps (begin … commit)
    line: int | None = None


def _ref(name: str) -> str | None:
    """The id of a named entity (`A.a1`) or task (`t1`); '' means none."""
    return uid(name) if name else None


def to_ops(step: Step, start_us: int, sessions: dict[str, int]) -> list[Op]:
    """The operations a step becomes (one, except for `ticks`)."""
    if step.do != "ticks":
        return [to_op(step, start_us, sessions)]
    first, until = step.at // timedelta(microseconds=1), parse_offset(step.args["until"])
    every = parse_offset(step.args["every"])
    return [Op("tick", start_us + t, 0, {"conn": step.args["conn"], "wait": True, "timeout_ms": None})
            for t in range(first, until + 1, every)]


def to_op(step: Step, start_us: int, sessions: dict[str, int]) -> Op:
    """The operation a step becomes; times are microseconds since the epoch."""
    a, at = step.args, start_us + step.at // timedelta(microseconds=1)
    session = sessions.setdefault(step.session, HELD + len(sessions)) if step.session else 0
    offset = lambda text: start_us + parse_offset(text) if text else None  # noqa: E731
    key = {"task_id": _ref(a.get("task", "")), "provider": a.get("provider"), "model": a.get("model")}
    tokens = {k: a.get(k) for k in TOKENS}
    d = step.do
    if d == "task":
        agent = a["agent"]
        runtime = a["runtime"] or f"{agent.split('.')[0]}.r1"
        value = {"id": uid(a["name"]), "agent_id": uid(agent), "runtime_id": uid(runtime), "issue_id": _ref(a["issue"])}
    elif d == "usage":
        value = {**key, **tokens, "created_at": offset(a["created_at"])}
    elif d == "delete_usage":
        value = key
    elif d in ("delete_task", "delete_issue", "delete_agent", "delete_runtime", "delete_project", "delete_workspace"):
        kind = d.removeprefix("delete_")
        value = {"id": uid(a[kind])}
    elif d == "reassign_runtime":
        value = {"id": uid(a["task"]), "runtime_id": uid(a["runtime"])}
    elif d == "link_issue":
        value = {"id": uid(a["task"]), "issue_id": uid(a["issue"])}
    elif d == "change_issue_project":
        value = {"id": uid(a["issue"]), "project_id": _ref(a["project"])}
    elif d == "change_agent":
        value = {"id": uid(a["task"]), "agent_id": uid(a["agent"])}
    elif d == "change_usage_key":
        value = {**key, "new_task_id": _ref(a["new_task"]), "new_provider": a["new_provider"] or None,
                 "new_model": a["new_model"] or None, "new_created_at": offset(a["new_created_at"])}
    elif d == "update_no_bump":
        value = {**key, **tokens}
    elif d == "tick":
        timeout = parse_offset(a["timeout"]) // 1000 if a["timeout"] else None
        value = {"conn": a["conn"], "wait": a["wait"], "timeout_ms": timeout}
    elif d in ("await", "wait_blocked"):
        value = {"conn": a["conn"]}
    elif d == "cancel":
        value = {"conn": a["conn"], "how": a["how"]}
    elif d == "lock":
        value = {"target": a["target"], "task_id": _ref(a["task"])}
    elif d == "backfill":
        value = {"months_back": a["months_back"] or None, "force": a["force"], "conn": a["conn"], "wait": a["wait"]}
    elif d == "migrate":
        value = {"to": a["to"] or None}
    elif d == "check":
        value = {"final": a["final"]}
    else:  # begin, commit, rollback, restart
        value = {}
    return Op(d, at, session, value)


def parse_offset(text: str) -> int:
    """Microseconds of an offset like '2h10m', '90s' or '250ms'."""
    from bench.scenario import parse_duration

    if text.endswith("ms") and text[:-2].isdigit():
        return int(text[:-2]) * 1000
    return parse_duration(text) // timedelta(microseconds=1)
