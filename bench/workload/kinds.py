"""The registry of operation kinds: each kind the bench knows — the world's entities, the application's writes,
the assumption breakers, the pipeline's actions and the faults — declared once, under one name used by
operations, histories, scripted steps and scenario weights alike.

A kind declares its fields (the history's columns), its group, and as far as it has them: the application's SQL
(the client applies it, and a replay re-imposes it through the same client); a scripted step's keys with their
defaults and how a step becomes the operation's value; its weight in generated workloads (with its former weight
name, still accepted); what the generator does when it draws the kind (through its typed face,
bench/workload/model.py); a write's effects — what it repoints, deletes or does to a usage row, and what it
requires — which the oracle, the checker's `touching` and attribution read; the catalogue ids it explains on any
key it touched; and the kind the oracle and the checker model it as, when it is a special case of another. Pipeline
actions are the runner's; each fault kind's action is a method of the runner registered under its name
(`@action` in bench/drive/runner.py, carried out through bench/drive/nemesis.py).

Adding a write means one entry here (with its effects) and its test; a fault operation, one entry, its action and
its test. tests/test_kinds.py holds every entry to its declaration, every write to its effects, and the fault
kinds and the actions to each other. (The faults a generated schedule draws are bench/workload/faults.py's.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench.workload.app import UPSERT_USAGE
from bench.workload.model import Face

ENTITY, USAGE, WRITE, BREAKER, PIPELINE, FAULT = "entity", "usage", "write", "breaker", "pipeline", "fault"


@dataclass(frozen=True)
class Effects:
    """What a write does to the truth, as the oracle, the checker's `touching` and attribution read it."""

    repoints: tuple[str, str] | None = None  # (entity, attribute) it changes, by the operation's `id`: its
    # `attribute` field holds the new value ("task", "runtime_id")
    deletes: str | None = None  # the entity it deletes by `id` (its cascades are the schema's), or "usage" by key
    usage: str | None = None  # what it does to a usage row by key: write, overwrite, rekey
    requires: tuple[str, ...] = ()  # the entities that must exist for it to apply


@dataclass(frozen=True)
class Kind:
    name: str
    fields: tuple[str, ...]
    group: str  # entity, usage, write, breaker (a write the application never makes), pipeline, fault
    sql: str | None = None  # the application's statement, with %(field)s parameters
    step: dict | None = None  # a scripted step's keys -> default (None: required); None: not a step
    build: Callable[[dict, "Refs"], dict] | None = None  # a step's arguments -> the operation's value
    weight: float | None = None  # default weight in generated workloads; None: the generator never draws it
    old: str | None = None  # the weight's former name (scenarios may still say it, with a warning)
    mutate: Callable | None = None  # (generator, tenant, at) -> None: what drawing it does
    explains: tuple[str, ...] = ()  # catalogue ids it explains on any bad key it touched
    same_as: str | None = None  # the oracle and checker model it as this kind (its other fields None)
    effects: Effects | None = None  # a write's (every one declares them, or is the same as a kind that does)


class Refs:
    """What a step's arguments refer to: ids of named entities, instants as offsets from the scenario's start,
    and durations (microseconds)."""

    def __init__(self, uid: Callable[[str], str], start_us: int, duration: Callable[[str], int]):
        self.uid, self.start_us, self.duration = uid, start_us, duration

    def offset(self, text: str) -> int | None:
        return self.start_us + self.duration(text) if text else None

    def ref(self, name: str) -> str | None:
        return self.uid(name) if name else None


USAGE_KEY_STEP = {"task": None, "provider": "anthropic", "model": "claude-sonnet-4"}
TOKENS_STEP = {"input": 100, "output": 0, "cache_read": 0, "cache_write": 0}
USAGE_KEY = ("task_id", "provider", "model")
TOKENS = ("input", "output", "cache_read", "cache_write")
_WHERE_USAGE = " WHERE task_id = %(task_id)s AND provider = %(provider)s AND model = %(model)s"


def _key(a: dict, r: Refs) -> dict:
    return {"task_id": r.ref(a["task"]), "provider": a["provider"], "model": a["model"]}


def _tokens(a: dict) -> dict:
    return {k: a[k] for k in TOKENS}


def _delete(entity: str, table: str, **kw) -> Kind:
    return Kind(f"delete_{entity}", ("id",), WRITE, f"DELETE FROM {table} WHERE id = %(id)s", {entity: None},
                lambda a, r: {"id": r.uid(a[entity])}, effects=Effects(deletes=entity, requires=(entity,)), **kw)


# ---------------------------------------------------------------- what drawing a mutation does (the generator)


def _delete_usage(g: Face, ten, at) -> None:
    key = g.pick_usage(g.rng)
    if key:
        g.emit("delete_usage", at, task_id=key[0], provider=key[1], model=key[2])
        g.forget_usage(key)


def _delete_task(g: Face, ten, at) -> None:
    tid = ten.tasks.choice(g.rng)
    if tid:
        g.emit("delete_task", at, id=tid)
        g.kill_task(tid)


def _delete_issue(g: Face, ten, at) -> None:
    if ten.issues:
        iid = g.rng.choice(ten.issues)
        g.emit("delete_issue", at, id=iid)
        g.drop_issue(iid)
        g.new_issue(ten, at)


def _delete_agent(g: Face, ten, at) -> None:
    if ten.agents:
        aid = g.rng.choice(ten.agents)
        g.emit("delete_agent", at, id=aid)
        g.delete_agent(ten, aid, held=g.held())  # may wait out lock_timeout on a late transaction's locks and fail
        g.new_agent(ten, at)


def _delete_runtime(g: Face, ten, at) -> None:
    free = g.free_runtimes(ten)
    if free:
        rid = g.rng.choice(free)
        g.emit("delete_runtime", at, id=rid)
        g.delete_runtime(ten, rid)
        g.new_runtime(ten, at)


def _delete_project(g: Face, ten, at) -> None:
    if ten.projects:
        pid = g.rng.choice(ten.projects)
        g.emit("delete_project", at, id=pid)
        ten.projects.remove(pid)
        g.unset_project(pid)
        g.new_project(ten, at)


def _delete_workspace(g: Face, ten, at) -> None:
    g.emit("delete_workspace", at, id=ten.id)
    g.drop_tenant(ten)
    g.new_tenant(at)


def _link_issue(g: Face, ten, at) -> None:
    tid = ten.chat_tasks.choice(g.rng)
    if tid and ten.issues:
        iid = g.rng.choice(ten.issues)
        g.emit("link_issue", at, id=tid, issue_id=iid)
        g.link(tid, iid)


def _change_issue_project(g: Face, ten, at) -> None:
    if ten.issues:
        iid = g.rng.choice(ten.issues)
        choices = [p for p in ten.projects + [None] if p != g.project_of(iid)]
        if choices:
            project = g.rng.choice(choices)
            g.emit("change_issue_project", at, id=iid, project_id=project)
            g.set_project(iid, project)


def _update_no_bump(g: Face, ten, at) -> None:
    key = g.pick_usage(g.rng)
    if key:
        g.emit("update_no_bump", at, task_id=key[0], provider=key[1], model=key[2],
               input=g.rng.randrange(1, 10_000), output=g.rng.randrange(0, 2_000), cache_read=0, cache_write=0)


def _move_usage(g: Face, ten, at) -> None:
    """A usage row handed to another task of the same workspace that has no row of its provider and model."""
    key = g.pick_usage(g.rng)
    if not key:
        return
    task_id, provider, model = key
    candidates = [t for t in g.task(task_id).tenant.tasks.items[:200]
                  if t != task_id and (provider, model) not in g.task(t).keys]
    if candidates:
        target = g.rng.choice(candidates)
        g.emit("move_usage", at, task_id=task_id, provider=provider, model=model, new_task_id=target)
        g.forget_usage(key)
        g.note_usage((target, provider, model), None)


# ---------------------------------------------------------------- the registry

_KINDS = [
    # the world: entities, as setup and as replacements
    Kind("workspace", ("id", "name", "slug"), ENTITY, "INSERT INTO workspace (id, name, slug) VALUES (%(id)s, %(name)s, %(slug)s)"),
    Kind("user", ("id", "name", "email", "timezone"), ENTITY,
         'INSERT INTO "user" (id, name, email, timezone) VALUES (%(id)s, %(name)s, %(email)s, %(timezone)s)'),
    Kind("runtime", ("id", "workspace_id", "name", "provider", "daemon_id"), ENTITY,
         "INSERT INTO agent_runtime (id, workspace_id, name, runtime_mode, provider, daemon_id)"
         " VALUES (%(id)s, %(workspace_id)s, %(name)s, 'local', %(provider)s, %(daemon_id)s)"),
    Kind("agent", ("id", "workspace_id", "runtime_id", "name"), ENTITY,
         "INSERT INTO agent (id, workspace_id, name, runtime_mode, runtime_id)"
         " VALUES (%(id)s, %(workspace_id)s, %(name)s, 'local', %(runtime_id)s)"),
    Kind("project", ("id", "workspace_id", "title"), ENTITY,
         "INSERT INTO project (id, workspace_id, title) VALUES (%(id)s, %(workspace_id)s, %(title)s)"),
    Kind("issue", ("id", "workspace_id", "project_id", "number", "title", "creator_id"), ENTITY,
         "INSERT INTO issue (id, workspace_id, project_id, number, title, creator_type, creator_id)"
         " VALUES (%(id)s, %(workspace_id)s, %(project_id)s, %(number)s, %(title)s, 'member', %(creator_id)s)"),
    # tasks and usage, as the application reports them
    Kind("task", ("id", "agent_id", "runtime_id", "issue_id"), USAGE,
         "INSERT INTO agent_task_queue (id, agent_id, runtime_id, issue_id, status)"
         " VALUES (%(id)s, %(agent_id)s, %(runtime_id)s, %(issue_id)s, 'completed')",
         {"name": None, "agent": "A.a1", "issue": "", "runtime": ""},
         lambda a, r: {"id": r.uid(a["name"]), "agent_id": r.uid(a["agent"]),
                       "runtime_id": r.uid(a["runtime"] or f"{a['agent'].split('.')[0]}.r1"),
                       "issue_id": r.ref(a["issue"])}),
    Kind("usage", (*USAGE_KEY, *TOKENS, "created_at"), USAGE, UPSERT_USAGE,
         {**USAGE_KEY_STEP, **TOKENS_STEP, "created_at": ""},
         lambda a, r: {**_key(a, r), **_tokens(a), "created_at": r.offset(a["created_at"])},
         effects=Effects(usage="write", requires=("task",))),
    # the application's other writes; their weights in this order, which generated streams depend on
    Kind("delete_usage", USAGE_KEY, WRITE, "DELETE FROM task_usage" + _WHERE_USAGE, dict(USAGE_KEY_STEP), _key,
         weight=1.0, old="usage_delete", mutate=_delete_usage, effects=Effects(deletes="usage", requires=("usage",))),
    _delete("task", "agent_task_queue", weight=1.0, old="task_delete", mutate=_delete_task),
    _delete("issue", "issue", weight=0.5, old="issue_delete", mutate=_delete_issue),
    _delete("agent", "agent", weight=0.0, old="agent_delete", mutate=_delete_agent, explains=("B1",)),
    _delete("runtime", "agent_runtime", weight=0.2, old="runtime_delete", mutate=_delete_runtime),
    _delete("project", "project", weight=0.2, old="project_delete", mutate=_delete_project),
    _delete("workspace", "workspace", weight=0.0, old="workspace_delete", mutate=_delete_workspace,
            explains=("B1",)),
    Kind("reassign_runtime", ("id", "runtime_id"), WRITE,
         "UPDATE agent_task_queue SET runtime_id = %(runtime_id)s WHERE id = %(id)s", {"task": None, "runtime": None},
         lambda a, r: {"id": r.uid(a["task"]), "runtime_id": r.uid(a["runtime"])}, weight=2.0, old="runtime_reassign",
         mutate=lambda g, ten, at: g.move_task(ten, at, "reassign_runtime", "runtime", ten.runtimes),
         effects=Effects(repoints=("task", "runtime_id"), requires=("task", "runtime"))),
    Kind("link_issue", ("id", "issue_id"), WRITE, "UPDATE agent_task_queue SET issue_id = %(issue_id)s WHERE id = %(id)s",
         {"task": None, "issue": None}, lambda a, r: {"id": r.uid(a["task"]), "issue_id": r.uid(a["issue"])},
         weight=2.0, old="link_chat_task", mutate=_link_issue,
         effects=Effects(repoints=("task", "issue_id"), requires=("task", "issue"))),
    Kind("change_issue_project", ("id", "project_id"), WRITE,
         "UPDATE issue SET project_id = %(project_id)s, updated_at = now() WHERE id = %(id)s",
         {"issue": None, "project": ""}, lambda a, r: {"id": r.uid(a["issue"]), "project_id": r.ref(a["project"])},
         weight=2.0, old="issue_project_change", mutate=_change_issue_project,
         effects=Effects(repoints=("issue", "project_id"), requires=("issue",))),
    # assumption breakers: writes the application never makes (B12, B13), drawn only with breakers = true
    Kind("change_agent", ("id", "agent_id"), BREAKER, "UPDATE agent_task_queue SET agent_id = %(agent_id)s WHERE id = %(id)s",
         {"task": None, "agent": None}, lambda a, r: {"id": r.uid(a["task"]), "agent_id": r.uid(a["agent"])},
         weight=0.0, old="agent_change", explains=("B12",),
         mutate=lambda g, ten, at: g.move_task(ten, at, "change_agent", "agent", ten.agents),
         effects=Effects(repoints=("task", "agent_id"), requires=("task", "agent"))),
    Kind("change_usage_key", (*USAGE_KEY, "new_task_id", "new_provider", "new_model", "new_created_at"), BREAKER,
         "UPDATE task_usage SET task_id = coalesce(%(new_task_id)s::uuid, task_id),"
         " provider = coalesce(%(new_provider)s, provider), model = coalesce(%(new_model)s, model),"
         " created_at = coalesce(%(new_created_at)s, created_at)" + _WHERE_USAGE,
         {**USAGE_KEY_STEP, "new_task": "", "new_provider": "", "new_model": "", "new_created_at": ""},
         lambda a, r: {**_key(a, r), "new_task_id": r.ref(a["new_task"]), "new_provider": a["new_provider"] or None,
                       "new_model": a["new_model"] or None, "new_created_at": r.offset(a["new_created_at"])},
         weight=0.0, old="usage_key_change", explains=("B13",), mutate=lambda g, ten, at: g.change_usage_key(ten, at),
         effects=Effects(usage="rekey", requires=("usage",))),
    Kind("update_no_bump", (*USAGE_KEY, *TOKENS), BREAKER,
         "UPDATE task_usage SET input_tokens = %(input)s, output_tokens = %(output)s,"
         " cache_read_tokens = %(cache_read)s, cache_write_tokens = %(cache_write)s" + _WHERE_USAGE,
         {**USAGE_KEY_STEP, **TOKENS_STEP}, lambda a, r: {**_key(a, r), **_tokens(a)},
         weight=0.0, old="update_without_bump", explains=("B13",), mutate=_update_no_bump,
         effects=Effects(usage="overwrite", requires=("usage",))),
    Kind("move_usage", (*USAGE_KEY, "new_task_id"), BREAKER, "UPDATE task_usage SET task_id = %(new_task_id)s" + _WHERE_USAGE,
         {**USAGE_KEY_STEP, "new_task": None}, lambda a, r: {**_key(a, r), "new_task_id": r.uid(a["new_task"])},
         weight=0.0, explains=("B13",), mutate=_move_usage, same_as="change_usage_key"),
    # the pipeline, its faults, and the checker; the runner carries them out (scripted: bench/workload/steps.py; generated:
    # bench/workload/strikes.py)
    Kind("tick", ("conn", "wait", "timeout_ms"), PIPELINE, step={"conn": "pool", "wait": True, "timeout": ""},
         build=lambda a, r: {"conn": a["conn"], "wait": a["wait"],
                             "timeout_ms": r.duration(a["timeout"]) // 1000 if a["timeout"] else None}),
    Kind("await", ("conn",), FAULT, step={"conn": None}, build=lambda a, r: {"conn": a["conn"]}),
    Kind("wait_blocked", ("conn",), FAULT, step={"conn": None}, build=lambda a, r: {"conn": a["conn"]}),
    Kind("cancel", ("conn", "how"), FAULT, step={"conn": None, "how": "backend"},
         build=lambda a, r: {"conn": a["conn"], "how": a["how"]}),
    Kind("begin", (), FAULT, step={}, build=lambda a, r: {}),
    Kind("commit", (), FAULT, step={}, build=lambda a, r: {}),
    Kind("rollback", (), FAULT, step={}, build=lambda a, r: {}),
    Kind("lock", ("target", "task_id"), FAULT, step={"target": "rollup", "task": ""},
         build=lambda a, r: {"target": a["target"], "task_id": r.ref(a["task"])}),
    Kind("backfill", ("months_back", "force", "conn", "wait"), FAULT,
         step={"months_back": 0, "force": False, "conn": "backfill", "wait": True},
         build=lambda a, r: {"months_back": a["months_back"] or None, "force": a["force"], "conn": a["conn"],
                             "wait": a["wait"]}),
    Kind("migrate", ("to",), FAULT, step={"to": ""}, build=lambda a, r: {"to": a["to"] or None}),
    Kind("restart", (), FAULT, step={}, build=lambda a, r: {}),
    Kind("pause", ("until",), FAULT),  # the scheduler stops ticking until then (generated fault schedules only)
    Kind("check", ("final",), PIPELINE, step={"final": False}, build=lambda a, r: {"final": a["final"]}),
]  # fmt: skip

KINDS: dict[str, Kind] = {k.name: k for k in _KINDS}
# Weighted kinds in the order their weights are listed (and drawn); the former names they are still known by.
WEIGHTED: dict[str, float] = {k.name: k.weight for k in _KINDS if k.weight is not None}
OLD_NAMES: dict[str, str] = {k.old: k.name for k in _KINDS if k.old}


def modelled(name: str) -> str:
    """The kind the oracle and the checker treat `name` as."""
    return KINDS[name].same_as or name


def explaining(catalogue_id: str) -> frozenset[str]:
    """The kinds that explain `catalogue_id` on any bad key they touched."""
    return frozenset(k.name for k in _KINDS if catalogue_id in k.explains)


def effects(name: str) -> Effects | None:
    """A kind's effects: its own, or those of the kind it is the same as."""
    return KINDS[modelled(name)].effects


def repointing(entity: str, attribute: str) -> list[str]:
    """The kinds that change `entity`'s `attribute` (a task's runtime_id), in registry order."""
    return [k.name for k in _KINDS if k.effects and k.effects.repoints == (entity, attribute)]


def deleting(entity: str | None = None) -> list[str]:
    """The kinds that delete `entity` by id (any entity, usage rows aside, when None)."""
    return [k.name for k in _KINDS if k.effects and k.effects.deletes
            and (k.effects.deletes == entity if entity else k.effects.deletes != "usage")]


def acting_on(entity: str) -> list[str]:
    """The kinds that repoint or delete an `entity` named by their `id`."""
    return [k.name for k in _KINDS if k.effects and entity in
            ((k.effects.repoints or ("",))[0], k.effects.deletes)]


def rekeying() -> list[str]:
    """The kinds that declare re-keying a usage row themselves (a kind the same as one is modelled as it, but
    recorded under its own name and fields)."""
    return [k.name for k in _KINDS if k.effects and k.effects.usage == "rekey"]
