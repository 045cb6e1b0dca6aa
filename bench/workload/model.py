"""The generator's model of what exists — workspaces and what they hold, tasks, live usage keys, and the indexes
that mirror the schema's cascades — and its typed face: what the kinds' mutations (bench/workload/kinds.py)
and the fault strikes (bench/workload/strikes.py) may read and do of the generator, so neither reaches into
its dictionaries."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Protocol
from zoneinfo import ZoneInfo



class Bag:
    """A set with O(1) random choice, for picking live entities by seed."""

    def __init__(self):
        self.items: list = []
        self.pos: dict = {}

    def add(self, x) -> None:
        if x not in self.pos:
            self.pos[x] = len(self.items)
            self.items.append(x)

    def discard(self, x) -> None:
        i = self.pos.pop(x, None)
        if i is not None:
            last = self.items.pop()
            if i < len(self.items):
                self.items[i] = last
                self.pos[last] = i

    def choice(self, rng: random.Random):
        return self.items[rng.randrange(len(self.items))] if self.items else None

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, x) -> bool:
        return x in self.pos


@dataclass
class Tenant:
    id: str
    zone: ZoneInfo
    alive: bool = True
    users: list = field(default_factory=list)
    runtimes: list = field(default_factory=list)  # the last one is a spare that no agent uses
    agents: list = field(default_factory=list)
    projects: list = field(default_factory=list)
    issues: list = field(default_factory=list)
    tasks: Bag = field(default_factory=Bag)
    chat_tasks: Bag = field(default_factory=Bag)
    next_number: int = 1


@dataclass
class LiveTask:
    id: str
    tenant: Tenant  # the agent's workspace
    agent: str
    runtime: str
    issue: str | None
    keys: Bag = field(default_factory=Bag)  # (provider, model) of its live usage rows


class Model:
    """The state (filled by the generator) and what changes it."""

    rng: random.Random
    doubtful: set[str]  # runtimes an agent whose delete may have failed may still use

    def __init__(self) -> None:
        self.tenants: list[Tenant] = []
        self.tasks: dict[str, LiveTask] = {}
        self.usage = Bag()  # live (task_id, provider, model)
        self.by_agent, self.by_runtime, self.by_issue = defaultdict(Bag), defaultdict(Bag), defaultdict(Bag)
        self.agent_runtime: dict[str, str] = {}
        self.issue_project: dict[str, str | None] = {}
        self.issue_tenant: dict[str, Tenant] = {}
        self.first_report: dict[tuple, int] = {}  # usage key -> when it was first reported
        self.doubtful = set()

    def register(self, task: LiveTask) -> None:
        self.tasks[task.id] = task
        task.tenant.tasks.add(task.id)
        (task.tenant.chat_tasks.add(task.id) if task.issue is None else self.by_issue[task.issue].add(task.id))
        self.by_agent[task.agent].add(task.id)
        self.by_runtime[task.runtime].add(task.id)

    def adopt(self, ten: Tenant, t: dict) -> None:
        """A task a late transaction wrote, once it committed: later operations may touch it and its usage, if
        what it hangs on is still there (a delete the transaction's locks made fail is, in the database)."""
        if not (ten.alive and t["agent_id"] in ten.agents and t["runtime_id"] in ten.runtimes
                and (t["issue_id"] is None or t["issue_id"] in self.issue_tenant)):
            return
        task = LiveTask(t["id"], ten, t["agent_id"], t["runtime_id"], t["issue_id"])
        self.register(task)
        for provider, model in t["keys"]:
            task.keys.add((provider, model))
            self.usage.add((task.id, provider, model))

    def kill_tasks_of(self, index: dict, key: str) -> None:
        """A cascade: every task an index lists under `key` (an agent, runtime or issue) goes."""
        for tid in list(index.pop(key, Bag()).items):
            self.kill_task(tid)

    def kill_task(self, task_id: str) -> None:
        task = self.tasks.pop(task_id, None)
        if task is None:
            return
        task.tenant.tasks.discard(task_id)
        task.tenant.chat_tasks.discard(task_id)
        self.by_agent[task.agent].discard(task_id)
        self.by_runtime[task.runtime].discard(task_id)
        if task.issue:
            self.by_issue[task.issue].discard(task_id)
        for provider, model in task.keys.items:
            self.usage.discard((task_id, provider, model))

    # ------------------------------------------------------------------ mutations

    def relocate(self, task: LiveTask, attr: str, new: str, index: dict) -> None:
        """A task now points at `new` (its runtime or its agent): the model and its index follow."""
        index[getattr(task, attr)].discard(task.id)
        setattr(task, attr, new)
        index[new].add(task.id)

    def drop_issue(self, iid: str) -> None:
        ten = self.issue_tenant.pop(iid)
        ten.issues.remove(iid)
        self.issue_project.pop(iid, None)
        self.kill_tasks_of(self.by_issue, iid)

    def drop_tenant(self, ten: Tenant) -> None:
        ten.alive = False
        self.tenants.remove(ten)
        for tid in list(ten.tasks.items):
            self.kill_task(tid)
        for iid in list(ten.issues):  # tasks of other workspaces linked to these issues go too
            self.drop_issue(iid)
        for rid in ten.runtimes:
            self.kill_tasks_of(self.by_runtime, rid)

    # ------------------------------------------------------------------ the stream

    # ------------------------------------------------------------------ the face's reads

    def task(self, task_id: str) -> LiveTask | None:
        return self.tasks.get(task_id)

    def live_tenants(self) -> list[Tenant]:
        """Workspaces alive with an agent to run a task."""
        return [t for t in self.tenants if t.alive and t.agents]

    def runtime_of(self, agent: str) -> str:
        return self.agent_runtime[agent]

    def project_of(self, issue: str | None) -> str | None:
        return self.issue_project.get(issue)

    def pick_usage(self, rng: random.Random) -> tuple | None:
        """A live usage key (task, provider, model), drawn by `rng`; None if there is none."""
        return self.usage.choice(rng)

    def has_usage(self, key: tuple) -> bool:
        return key in self.usage

    def first_reported(self, key: tuple, default: int) -> int:
        return self.first_report.get(key, default)

    def placement(self, task_id: str) -> tuple | None:
        """What a task's usage keys hang on besides the usage row: runtime, agent, issue and its project."""
        t = self.tasks.get(task_id)
        return t and (t.runtime, t.agent, t.issue, self.issue_project.get(t.issue))

    # ------------------------------------------------------------------ the face's changes

    def note_usage(self, key: tuple, at: int | None) -> None:
        """A usage key reported at `at` (first or again; None: moved there, not reported)."""
        self.usage.add(key)
        self.tasks[key[0]].keys.add(key[1:])
        if at is not None:
            self.first_report.setdefault(key, at)

    def forget_usage(self, key: tuple) -> None:
        """A usage key deleted (its row gone; its task stays)."""
        self.usage.discard(key)
        self.tasks[key[0]].keys.discard(key[1:])

    def move_runtime(self, task: LiveTask, runtime: str) -> None:
        self.relocate(task, "runtime", runtime, self.by_runtime)

    def link(self, task_id: str, issue: str) -> None:
        """A chat task linked to an issue."""
        self.tasks[task_id].tenant.chat_tasks.discard(task_id)
        self.tasks[task_id].issue = issue
        self.by_issue[issue].add(task_id)

    def set_project(self, issue: str, project: str | None) -> None:
        self.issue_project[issue] = project

    def unset_project(self, project: str) -> None:
        """ON DELETE SET NULL: a deleted project's issues have none."""
        for iid, p in self.issue_project.items():
            if p == project:
                self.issue_project[iid] = None

    def delete_agent(self, ten: Tenant, agent: str, held: bool) -> None:
        """An agent deleted and its tasks with it; `held`: transactions are open that may make the delete fail
        (its runtime may still be in use: not deleted meanwhile)."""
        if held:
            self.doubtful.add(self.agent_runtime[agent])
        ten.agents.remove(agent)
        self.kill_tasks_of(self.by_agent, agent)

    def delete_runtime(self, ten: Tenant, runtime: str) -> None:
        ten.runtimes.remove(runtime)
        self.kill_tasks_of(self.by_runtime, runtime)

    def free_runtimes(self, ten: Tenant) -> list[str]:
        """A workspace's runtimes no agent uses (and none whose delete may fail)."""
        used = set(self.agent_runtime[a] for a in ten.agents)
        return [r for r in ten.runtimes if r not in used and r not in self.doubtful]


class Face(Protocol):
    """What the kinds' mutations and the fault strikes may use of the generator: its model's face (above), and
    the stream's: emit or put an operation, schedule a follow-up, add entities, the held transactions' count."""

    rng: random.Random

    def emit(self, op_name: str, op_at: int, /, **value) -> None: ...
    def put(self, op) -> None: ...  # an Op (bench/workload/ops.py, which imports the kinds)
    def schedule(self, at: int, kind: str, payload=None) -> None: ...
    def held(self) -> bool: ...
    def new_tenant(self, at: int) -> Tenant: ...
    def new_runtime(self, ten: Tenant, at: int) -> str: ...
    def new_agent(self, ten: Tenant, at: int) -> str: ...
    def new_project(self, ten: Tenant, at: int) -> str: ...
    def new_issue(self, ten: Tenant, at: int) -> str: ...
    def move_task(self, ten: Tenant, at: int, op: str, attr: str, choices: list) -> None: ...
    def change_usage_key(self, ten: Tenant, at: int) -> None: ...
    def kill_task(self, task_id: str) -> None: ...
    def drop_issue(self, iid: str) -> None: ...
    def drop_tenant(self, ten: Tenant) -> None: ...
    def adopt(self, ten: Tenant, t: dict) -> None: ...
    def task(self, task_id: str) -> LiveTask | None: ...
    def live_tenants(self) -> list[Tenant]: ...
    def runtime_of(self, agent: str) -> str: ...
    def project_of(self, issue: str | None) -> str | None: ...
    def pick_usage(self, rng: random.Random) -> tuple | None: ...
    def has_usage(self, key: tuple) -> bool: ...
    def first_reported(self, key: tuple, default: int) -> int: ...
    def placement(self, task_id: str) -> tuple | None: ...
    def note_usage(self, key: tuple, at: int | None) -> None: ...
    def forget_usage(self, key: tuple) -> None: ...
    def move_runtime(self, task: LiveTask, runtime: str) -> None: ...
    def link(self, task_id: str, issue: str) -> None: ...
    def set_project(self, issue: str, project: str | None) -> None: ...
    def unset_project(self, project: str) -> None: ...
    def delete_agent(self, ten: Tenant, agent: str, held: bool) -> None: ...
    def delete_runtime(self, ten: Tenant, runtime: str) -> None: ...
    def free_runtimes(self, ten: Tenant) -> list[str]: ...
