"""The seeded workload generator: a scenario in, a time-ordered stream of operations out.

It keeps its own model of what exists (workspaces, agents, tasks, usage keys…) so that every operation it
proposes is valid when applied in order, and so cascades are mirrored (a deleted issue takes its tasks along).
Arrivals follow each tenant's diurnal profile in its own zone, with bursts; token counts are heavy-tailed.
No operation falls in the quiet window around a check, so the pipeline can catch up before it is judged.
A target's optional raw usage columns (rollup.measures.Column) are drawn from a stream of their own, and only when
declared: a stream without them is the same as before they existed.
"""

from __future__ import annotations

import heapq
import math
import random
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from faker import Faker

from bench.workload.schedule import Schedule
from bench.workload.kinds import KINDS
from bench.workload.model import LiveTask, Model, Tenant
from bench.workload.ops import Op
from bench.workload.scenario import Scenario
from rollup.clock import to_us
from rollup.measures import Column
from rollup.units import HOUR, QUARTER, US

# Quiet window around a check at C: [C - 6 min, C + 1 min) — a tick in [C, C + 1 min] then covers every write.
QUIET_BEFORE, QUIET_AFTER = 6 * 60 * US, 60 * US


def poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:  # normal approximation: exact enough for arrival counts, and fast
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


class Generator(Model):
    def __init__(self, sc: Scenario, columns: tuple[Column, ...] = ()):
        self.sc = sc
        self.rng = random.Random(sc.seed)
        self.columns = columns  # the target's optional raw usage columns, each report's values drawn apart
        self.column_rng = random.Random(f"{sc.seed}:columns")
        self.fake = Faker()
        self.fake.seed_instance(sc.seed)
        self.start = to_us(sc.start)
        self.end = self.start + sc.duration // timedelta(microseconds=1)
        every = sc.pipeline.check_every // timedelta(microseconds=1)
        self.checks = list(range(self.start + every, self.end, every)) + [self.end]
        self.nemesis = None  # the fault schedule ([faults]), drawn from a stream of its own
        Model.__init__(self)
        if sc.nemesis():
            self.nemesis = Schedule(sc, self.start, self.end, QUIET_BEFORE, QUIET_AFTER)
            self.checks = self.nemesis.spare(self.checks)
            self.nemesis.cover(self.checks, self.start, self.end)
        self.diurnal = sc.rates.hourly_profile()
        self._heap: list = []
        self._seq = 0
        self._counter = 0
        self.out: list[Op] = []

    # ------------------------------------------------------------------ helpers

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def n(self) -> int:
        self._counter += 1
        return self._counter

    def put(self, op: Op) -> None:
        self.out.append(op)

    def held(self) -> bool:
        """Whether the nemesis holds a transaction open now (a write may wait on its locks and fail)."""
        return bool(self.nemesis and self.nemesis.open)

    def emit(self, op_name: str, op_at: int, /, **value) -> None:
        self.out.append(Op(op_name, op_at, self.rng.randrange(self.sc.pipeline.sessions), value))

    def schedule(self, at: int, kind: str, payload=None) -> None:
        at = self.dodge(at)
        if at < self.end:
            heapq.heappush(self._heap, (at, self._seq, kind, payload))
            self._seq += 1

    def dodge(self, at: int) -> int:
        """Move a time out of any check's quiet window (to just after it)."""
        for c in self.checks:
            if c - QUIET_BEFORE <= at < c + QUIET_AFTER:
                return at + QUIET_BEFORE + QUIET_AFTER
            if c > at + QUIET_BEFORE:
                break
        return at

    # ------------------------------------------------------------------ entities

    def new_tenant(self, at: int) -> Tenant:
        t = self.sc.tenants
        zone = ZoneInfo(self.rng.choice(t.zones))
        ten = Tenant(self.uid(), zone)
        company = self.fake.company()
        slug = "".join(ch if ch.isalnum() else "-" for ch in company.lower()).strip("-")
        self.emit("workspace", at, id=ten.id, name=company, slug=f"{slug}-{self.n()}")
        for _ in range(t.users):
            uid, first, last = self.uid(), self.fake.first_name(), self.fake.last_name()
            tz = self.rng.choice(t.zones) if self.rng.random() < 0.8 else None
            self.emit("user", at, id=uid, name=f"{first} {last}",
                      email=f"{first}.{last}.{self.n()}@{self.fake.free_email_domain()}".lower(), timezone=tz)
            ten.users.append(uid)
        for _ in range(t.runtimes + 1):
            self.new_runtime(ten, at)
        for _ in range(t.agents):
            self.new_agent(ten, at)
        for _ in range(t.projects):
            self.new_project(ten, at)
        for _ in range(t.issues):
            self.new_issue(ten, at)
        self.tenants.append(ten)
        return ten

    def new_runtime(self, ten: Tenant, at: int) -> str:
        rid = self.uid()
        provider = self.rng.choice(list(self.sc.rates.providers))
        self.emit("runtime", at, id=rid, workspace_id=ten.id, name=f"{self.fake.hostname()}-{self.n()}",
                  provider=provider, daemon_id=f"daemon-{self.n()}")
        ten.runtimes.insert(max(0, len(ten.runtimes) - 1), rid)  # keep the spare last
        return rid

    def new_agent(self, ten: Tenant, at: int) -> str:
        aid = self.uid()
        runtime = self.rng.choice(ten.runtimes[:-1] or ten.runtimes)
        self.emit("agent", at, id=aid, workspace_id=ten.id, runtime_id=runtime,
                  name=f"{self.fake.first_name().lower()}-{self.n()}")
        ten.agents.append(aid)
        self.agent_runtime[aid] = runtime
        return aid

    def new_project(self, ten: Tenant, at: int) -> str:
        pid = self.uid()
        self.emit("project", at, id=pid, workspace_id=ten.id, title=self.fake.catch_phrase())
        ten.projects.append(pid)
        return pid

    def new_issue(self, ten: Tenant, at: int) -> str:
        iid = self.uid()
        project = self.rng.choice(ten.projects) if ten.projects and self.rng.random() < 0.8 else None
        self.emit("issue", at, id=iid, workspace_id=ten.id, project_id=project, number=ten.next_number,
                  title=self.fake.sentence(nb_words=5).rstrip("."), creator_id=self.rng.choice(ten.users))
        ten.next_number += 1
        ten.issues.append(iid)
        self.issue_project[iid] = project
        self.issue_tenant[iid] = ten
        return iid

    # ------------------------------------------------------------------ tasks and usage

    def new_task(self, ten: Tenant, at: int) -> None:
        if not ten.alive or not ten.agents:
            return
        agent = self.rng.choice(ten.agents)
        issue_ten = ten
        if self.sc.tenants.cross_workspace_issues and self.rng.random() < self.sc.tenants.cross_workspace_issues:
            others = [t for t in self.tenants if t.alive and t is not ten and t.issues]
            issue_ten = self.rng.choice(others) if others else ten
        issue = None
        if issue_ten.issues and self.rng.random() >= self.sc.rates.chat_share:
            issue = self.rng.choice(issue_ten.issues)
        task = LiveTask(self.uid(), ten, agent, self.agent_runtime[agent], issue)
        self.emit("task", at, id=task.id, agent_id=agent, runtime_id=task.runtime, issue_id=issue)
        self.register(task)
        r = self.sc.rates
        for _ in range(self.rng.randint(*r.usage_rows_per_task)):
            self.plan_usage(task, at)

    def plan_usage(self, task: LiveTask, at: int) -> None:
        r, tok = self.sc.rates, self.sc.rates.tokens
        provider = self.rng.choices(list(r.providers), weights=list(r.providers.values()))[0]
        model = self.rng.choice(r.models[provider])
        final_in = max(1, int(tok.input_median * math.exp(tok.input_sigma * self.rng.gauss(0, 1))))
        final_out = max(0, int(tok.output_median * math.exp(tok.output_sigma * self.rng.gauss(0, 1))))
        cached = self.rng.random() < tok.cache_share
        final_cr = int(final_in * tok.cache_read_ratio * self.rng.uniform(0.5, 1.5)) if cached else 0
        final_cw = int(final_in * self.rng.uniform(0.0, 0.3)) if cached else 0
        backdated = None
        if self.rng.random() < r.backdated_share:
            backdated = at - int(self.rng.random() * (r.backdated_max // timedelta(microseconds=1)))
        if r.boundary_share and self.rng.random() < r.boundary_share:
            backdated = self.edge(task.tenant.zone, at)
        reports = self.rng.randint(*r.reports_per_row)
        t = at
        for j in range(1, reports + 1):
            t += int(self.rng.uniform(5, 120 if j == 1 else 600) * US)
            share = j / reports  # counters grow report by report; the last one is final
            self.schedule(t, "usage", (task.id, provider, model, int(final_in * share), int(final_out * share),
                                       int(final_cr * share), int(final_cw * share), backdated if j == 1 else None))

    def edge(self, zone: ZoneInfo, at: int) -> int:
        """A created_at exactly on an edge at or before `at`, drawn by seed: the UTC hour, the quarter hour, local
        midnight in the tenant's zone, or the tenant's last DST transition within backdated_max (else the hour)."""
        kind = self.rng.choice(("hour", "quarter", "midnight", "dst"))
        if kind == "quarter":
            return at - at % QUARTER
        if kind == "midnight":
            local = datetime.fromtimestamp(at / US, UTC).astimezone(zone)
            return to_us(local.replace(hour=0, minute=0, second=0, microsecond=0))
        if kind == "dst":
            offset = lambda t: datetime.fromtimestamp(t / US, UTC).astimezone(zone).utcoffset()  # noqa: E731
            oldest = at - self.sc.rates.backdated_max // timedelta(microseconds=1)
            hour = at - at % HOUR
            while hour - HOUR >= oldest:
                if offset(hour) != offset(hour - HOUR):  # a transition in (hour - 1h, hour]: find its second
                    lo, hi = hour - HOUR, hour
                    while hi - lo > US:
                        mid = (lo + hi) // 2 // US * US
                        lo, hi = (mid, hi) if offset(mid) == offset(hour - HOUR) else (lo, mid)
                    return hi
                hour -= HOUR
        return at - at % HOUR

    def report_usage(self, at: int, payload) -> None:
        task_id, provider, model, i, o, cr, cw, created_at = payload
        task = self.tasks.get(task_id)
        if task is None:
            return  # the task is gone: the application has nothing to report on
        extra = {c.name: self.column_value(c) for c in self.columns}
        self.emit("usage", at, task_id=task_id, provider=provider, model=model, input=i, output=o,
                  cache_read=cr, cache_write=cw, created_at=created_at, **extra)
        task.keys.add((provider, model))
        self.usage.add((task_id, provider, model))
        self.first_report.setdefault((task_id, provider, model), at)

    def column_value(self, c: Column) -> str | int | None:
        """A declared column's value in one report: NULL for the rest of its share; a numeric as exact text."""
        rng = self.column_rng
        if rng.random() >= c.share:
            return None
        if c.type == "bigint":
            return rng.randint(0, int(c.max))
        return f"{rng.uniform(0, c.max):.{c.scale}f}"

    def mutate(self, ten: Tenant, at: int, kind: str) -> None:
        """What drawing a mutation of `kind` does: the registry's action (bench/workload/kinds.py)."""
        if ten.alive:
            KINDS[kind].mutate(self, ten, at)

    def move_task(self, ten: Tenant, at: int, op: str, attr: str, choices: list) -> None:
        """Point a random task of the tenant at another of `choices` (its runtime or its agent)."""
        index = self.by_runtime if attr == "runtime" else self.by_agent
        tid = ten.tasks.choice(self.rng)
        others = [c for c in choices if tid and c != getattr(self.tasks[tid], attr)]
        if tid and others:
            task, new = self.tasks[tid], self.rng.choice(others)
            self.emit(op, at, id=tid, **{f"{attr}_id": new})
            self.relocate(task, attr, new, index)

    def change_usage_key(self, ten: Tenant, at: int) -> None:
        key = self.usage.choice(self.rng)
        if not key:
            return
        task_id, provider, model = key
        task = self.tasks[task_id]
        new = {"new_task_id": None, "new_provider": None, "new_model": None, "new_created_at": None}
        what = self.rng.choice(["model", "provider", "created_at", "task_id"])
        target_task, target_key = task_id, (provider, model)
        if what in ("model", "provider"):
            pairs = [(p, m) for p, ms in self.sc.rates.models.items() for m in ms
                     if (p, m) not in task.keys and (what == "provider") == (p != provider)]
            if not pairs:
                return
            target_key = self.rng.choice(pairs)
            new["new_provider" if what == "provider" else "new_model"] = target_key[0 if what == "provider" else 1]
            if what == "provider":
                new["new_model"] = target_key[1]
        elif what == "created_at":
            new["new_created_at"] = at - self.rng.randrange(1, 48) * HOUR
        else:
            candidates = [t for t in task.tenant.tasks.items[:200] if (provider, model) not in self.tasks[t].keys]
            if not candidates:
                return
            target_task = self.rng.choice(candidates)
            new["new_task_id"] = target_task
        self.emit("change_usage_key", at, task_id=task_id, provider=provider, model=model, **new)
        self.usage.discard(key)
        task.keys.discard((provider, model))
        self.usage.add((target_task, *target_key))
        self.tasks[target_task].keys.add(target_key)

    def arrivals(self) -> None:
        """Schedule task and mutation arrivals hour by hour, per tenant, in its local diurnal profile."""
        r, o = self.sc.rates, self.sc.operations
        burst_len = r.burst_length // timedelta(microseconds=1)
        kinds = [k for k, w in o.weights.items() if w > 0]
        weights = [o.weights[k] for k in kinds]
        for slot, ten in enumerate(list(self.tenants)):
            bursts = []
            for day in range(self.start, self.end, 24 * HOUR):
                for _ in range(poisson(self.rng, r.bursts_per_day)):
                    b = day + self.rng.randrange(24 * HOUR)
                    bursts.append((b, b + burst_len))
            for hour in range(self.start, self.end, HOUR):
                local = datetime.fromtimestamp(hour / US, UTC).astimezone(ten.zone).hour
                for _ in range(poisson(self.rng, r.tasks_per_hour * self.diurnal[local])):
                    self.schedule(hour + self.rng.randrange(HOUR), "task", slot)
                for b0, b1 in bursts:
                    overlap = min(b1, hour + HOUR) - max(b0, hour)
                    if overlap > 0:
                        extra = r.tasks_per_hour * (r.burst_factor - 1) * overlap / HOUR
                        for _ in range(poisson(self.rng, extra)):
                            self.schedule(max(b0, hour) + self.rng.randrange(overlap), "task", slot)
                if kinds:
                    for _ in range(poisson(self.rng, o.per_hour)):
                        kind = self.rng.choices(kinds, weights=weights)[0]
                        self.schedule(hour + self.rng.randrange(HOUR), "mutate", (slot, kind))

    def run(self) -> list[Op]:
        for _ in range(self.sc.tenants.workspaces):
            self.new_tenant(self.start)
        slots = list(self.tenants)  # arrivals address tenants by slot; a deleted tenant's slot is refilled
        self.arrivals()
        for at, kind, payload in self.nemesis.events if self.nemesis else ():
            self.schedule(at, "fault", (kind, payload))
        for c in self.checks:
            heapq.heappush(self._heap, (c, -1, "check", c == self.end))
        while self._heap:
            at, _, kind, payload = heapq.heappop(self._heap)
            if kind == "check":
                self.emit("check", at, final=payload)
            elif kind == "usage":
                self.report_usage(at, payload)
            elif kind == "task":
                self.new_task(self._slot(slots, payload), at)
            elif kind == "fault":
                self.nemesis.strike(self, at, *payload)
            else:
                slot, what = payload
                self.mutate(self._slot(slots, slot), at, what)
        for op in self.out:
            if op.name == "check":
                op.session = 0
        return self.out

    def _slot(self, slots: list[Tenant], i: int) -> Tenant:
        if not slots[i].alive:  # its workspace was deleted: the replacement takes its place
            replacement = [t for t in self.tenants if t not in slots]
            if replacement:
                slots[i] = replacement[0]
        return slots[i]


def generate(sc: Scenario, columns: tuple[Column, ...] = ()) -> list[Op]:
    """The stream; `columns`: the target's optional raw usage columns, written with every usage report."""
    return Generator(sc, columns).run()
