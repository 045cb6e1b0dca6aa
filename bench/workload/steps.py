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

from bench.workload.kinds import KINDS, Refs
from bench.workload.ops import Op
from bench.workload.schema import Table, parse_duration

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


# Step kinds: the keys each takes (with defaults; None = required), from the registry; `ticks` is the one step that
# is no operation of its own.
STEPS: dict[str, dict] = {name: k.step for name, k in KINDS.items() if k.step is not None}
STEPS["ticks"] = {"until": None, "every": "5m", "conn": "pool"}  # a tick at `at`, then every `every` until `until`
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
    session = sessions.setdefault(step.session, HELD + len(sessions)) if step.session else 0
    value = KINDS[step.do].build(step.args, Refs(uid, start_us, parse_offset))
    return Op(step.do, start_us + step.at // timedelta(microseconds=1), session, value)


def parse_offset(text: str) -> int:
    """Microseconds of an offset like '2h10m', '90s' or '250ms'."""
    if text.endswith("ms") and text[:-2].isdigit():
        return int(text[:-2]) * 1000
    return parse_duration(text) // timedelta(microseconds=1)


def read_steps(root: Table) -> tuple[Step, ...]:
    """`[[step]]` tables: `do` names the kind, `at` its offset from the start, the rest its arguments."""
    raw = root.data.get("step", [])
    if not isinstance(raw, list):
        root.fail("step", "expected an array of tables: [[step]]")
    steps, last = [], timedelta(0)
    for n, data in enumerate(raw):
        path = ("step", f"[{n + 1}]")
        line = root.ctx.locator.line(path)
        t = Table(root.ctx, path, data, None)
        do = t.get("do", "", str)
        if do not in STEPS:
            t.fail("do", f"{do!r} is not a step; expected one of {', '.join(STEPS)}")
        allowed = ("do", "at", "session", *STEPS[do])
        for key in data:
            if key not in allowed:
                t.fail(key, f"unknown key for step {n + 1} ({do}); expected one of {', '.join(allowed)}")
        try:
            at = timedelta(microseconds=parse_offset(t.get("at", "0s", str)))
        except ValueError as e:
            t.fail("at", str(e))
        if at < last:
            t.fail("at", f"step {n + 1} ({do}) goes back in time: steps must be in order")
        last = at
        args = {}
        for key, default in STEPS[do].items():
            if default is None and key not in data:
                t.fail(key, f"step {n + 1} ({do}) needs {key}")
            args[key] = t.get(key, default if default is not None else "", type(default) if default is not None else str)
        session = t.get("session", "", str)
        if do in NEEDS_SESSION and not session:
            t.fail("session", f"step {n + 1} ({do}) needs a session name")
        if do == "cancel" and args["how"] not in CANCEL_HOW:
            t.fail("how", f"{args['how']!r} is not one of {', '.join(CANCEL_HOW)}")
        if do == "lock" and args["target"] not in LOCK_TARGETS:
            t.fail("target", f"{args['target']!r} is not one of {', '.join(LOCK_TARGETS)}")
        steps.append(Step(do, at, args, session, line))
    return tuple(steps)
