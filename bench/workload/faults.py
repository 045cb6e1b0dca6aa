"""The nemesis schedule of a generated scenario (`[faults]`): when each fault strikes, and the operations it becomes.

Fault times and the content of late transactions come from a stream of their own (seeded from the scenario's
seed), so the workload around the faults is the one the seed draws without them. Every fault is operations in
the stream — a held transaction's begin … commit, a lock and a tick cancelled at it, a restart, a backfill, a
pause — so the history holds them and `replay` imposes them again, with nothing decided by wall-clock luck: a
cancelled tick is first seen waiting on its lock (`wait_blocked`).
"""

from __future__ import annotations

import random
import uuid

from bench.workload.ops import Op

FAULT_SESSIONS = 200  # held sessions of scheduled faults are numbered from here (scripted steps' from 100)
NEMESIS_CONN = "nemesis"  # the pooled connection the nemesis's own ticks run on: their failures are its doing
TIMEOUT_MS = 300  # the statement_timeout of a tick that is to time out at its waitpoint
KINDS = ("late", "cancel", "race", "restart", "backfill", "pause", "long_pause", "lock_wait", "requeue")
NEMESIS_TICKS = ("cancel", "race", "lock_wait", "requeue")  # kinds that run a tick of their own: none while paused
RACE_CONN = "race"  # the pooled connection a raced tick runs on (its outcome counts: it is an ordinary tick)
REQUEUE_CONN = "requeue"  # the one a tick held while keys it read are re-enqueued runs on (it counts, too)
ROLLED_UP = 30 * 60 * 1_000_000  # a raced key was first reported this long before: its rollup row exists
US = 1_000_000
LOCK_WAIT_AFTER = 5 * 60 * US + 1_000  # a lock wait's tick comes this long after its first report: the window
# of a tick then reaches past that report (it ends 5 minutes before the tick's time)
DAY = 86_400 * US
MINUTE = 60 * US
ALLOWANCE = 5 * MINUTE  # the watermark's allowance for late visibility: a tick covers writes until now − 5 min
RETENTION = 7 * DAY  # the dirty queue's retention: a pause this long outlasts it (B5's ground)
LEAD = 60 * MINUTE  # [cover] faults start this far into a run: a requeue needs keys rolled up by then


class Schedule:
    def __init__(self, sc, start: int, end: int, quiet_before: int, quiet_after: int):
        f = sc.faults
        self.f, self.sc = f, sc
        self.rng = random.Random(f"{sc.seed}:faults")
        rates = dict(zip(KINDS, f.rates()))
        self.events: list[tuple[int, str, object]] = []
        long_: tuple[int, int] | None = None
        self.tick_every = int(sc.pipeline.tick_every.total_seconds() * US)
        for kind in KINDS:  # a Poisson process per kind, each from a stream of its own: dropping one kind from a
            times = random.Random(f"{sc.seed}:faults:{kind}")  # scenario leaves the others' times as they were
            t = start
            while rates[kind] > 0:
                t += int(times.expovariate(rates[kind]) * DAY)
                if t >= end:
                    break
                if kind == "pause":
                    self.events.append((t, kind, t + self._span(f.pause_length, times)))
                elif kind == "long_pause":  # one a run
                    long_ = self._long_pause(t, times, start, end, quiet_before)
                    break
                else:
                    self.events.append((t, kind, None))
        if sc.cover.long_pauses and long_ is None:  # one the rates did not draw, placed by a stream of its own
            times = random.Random(f"{sc.seed}:cover:long_pause")
            long_ = self._long_pause(start + int(times.random() * (end - start)), times, start, end, quiet_before)
        if long_:  # the long pause alone: shorter ones overlapping it would only lengthen it past its range
            self.events = [e for e in self.events if e[1] != "pause" or (e[0], e[2]) == long_
                           or e[2] <= long_[0] or e[0] >= long_[1]]
        self.events.sort(key=lambda e: (e[0], KINDS.index(e[1])))
        self.quiet_before, self.quiet_after = quiet_before, quiet_after
        # Pauses (and overlapping runs of them) end early enough for the ticks to catch up before the last check.
        for t0, t1 in self.stops():
            latest = end - quiet_before - self.catch_up(t1 - t0)
            if t1 > latest:
                self.events = [(t, k, min(u, latest) if k == "pause" and t0 <= t < t1 else u)
                               for t, k, u in self.events]
        self.events = [e for e in self.events if e[1] != "pause" or e[2] > e[0]]
        # Nothing ticks while the scheduler is paused: the nemesis's own ticks wait with it.
        stops = self.stops()
        self.events = [e for e in self.events if e[1] not in NEMESIS_TICKS or not any(
            a <= e[0] + (LOCK_WAIT_AFTER if e[1] in ("lock_wait", "requeue") else 0) and e[0] < b for a, b in stops)]
        self.open: dict[int, dict] = {}  # held session -> its late transaction, until it ends

    def _long_pause(self, t: int, rng: random.Random, start: int, end: int, quiet_before: int) -> tuple[int, int]:
        """A pause past the queue's retention from about `t`: moved earlier, not cut short, where it would end too
        late for the ticks to catch up before the last check."""
        length = self._span(self.f.long_pause_length, rng)
        at = max(start, min(t, end - quiet_before - self.catch_up(length) - length))
        self.events.append((at, "pause", at + length))
        return at, at + length

    def _span(self, span, rng: random.Random | None = None) -> int:
        lo, hi = (int(d.total_seconds() * US) for d in span)
        return (rng or self.rng).randint(lo, hi)

    def stops(self) -> list[tuple[int, int]]:
        """The spans without ticks: pauses, overlapping ones merged."""
        spans: list[list[int]] = []
        for t, kind, until in self.events:
            if kind != "pause":
                continue
            if spans and t <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], until)
            else:
                spans.append([t, until])
        return [(a, b) for a, b in spans]

    def catch_up(self, stopped: int) -> int:
        """How long the ticks take to catch up after `stopped` µs without one: the pipeline rolls up at most a
        day of lag per tick, and its watermark trails now by 5 minutes."""
        return (-(-stopped // DAY) + 2) * self.tick_every

    def spare(self, checks: list[int]) -> list[int]:
        """The checks no pause swallows: a check needs the ticks before it, caught up; the final one stays (the
        pauses end in time for it)."""
        swallowed = [(t0 - self.quiet_after, t1 + self.catch_up(t1 - t0) + self.quiet_before) for t0, t1 in self.stops()]
        return [c for c in checks if c == checks[-1] or not any(a <= c < b for a, b in swallowed)]

    def cover(self, checks: list[int], start: int, end: int) -> None:
        """Place what `[cover]` asks for where it bites, whatever the seed draws: late transactions open across a
        tick that commit within the watermark's allowance (a tick without it loses them) or past it (B4's ground),
        and requeues. They fall in the run's first half, clear of the checks' quiet windows, the pauses and the
        restarts (which would end a late transaction). The cancels the rates drew before the last of them move
        after it: a cancelled tick stops a faithful target's ticks for good (L1), and a requeue's tick would find
        nothing to wait for."""
        c = self.sc.cover
        wanted = ["within"] * c.late_commits + ["past"] * c.late_commits_past + ["requeue"] * c.requeues
        if not wanted:
            return
        rng, every = random.Random(f"{self.sc.seed}:cover"), self.tick_every
        rng.shuffle(wanted)
        first = start + LEAD
        slot = max(every, (start + (end - start) // 2 - first) // len(wanted))
        busy = [(t - self.quiet_before, t + self.quiet_after) for t in checks] + self.stops()
        busy += [(t, t + 1) for t, kind, _ in self.events if kind == "restart"]
        placed = start
        for n, what in enumerate(wanted):
            t = first + n * slot + int(rng.random() * slot)
            tick = start + -(-(t - start) // every) * every  # the first tick at or after t
            if what == "requeue":  # its first half after a tick, its tick 5 minutes later, between two of them
                lead, length = rng.randint(30 * US, max(30 * US, min(3 * MINUTE, every // 2))), LOCK_WAIT_AFTER
            else:
                length = (rng.randint(30 * US, ALLOWANCE - 30 * US) if what == "within"
                          else rng.randint(ALLOWANCE + MINUTE, 4 * ALLOWANCE))
                lead = -rng.randint(US, min(length, every) - US)  # it begins before the tick, commits after it
            while tick + lead + length < end and any(a - MINUTE < tick + lead + length and tick + lead < b + MINUTE
                                                     for a, b in busy):
                tick += every
            at = tick + lead
            if at + length >= end:
                continue  # no room left: the verdict's coverage check says what is missing
            busy.append((at, at + length))
            placed = max(placed, at + length)
            self.events.append((at, "requeue", True) if what == "requeue"
                               else (at, "late", {"latency": length, "commit": True}))
        self.events = [(t + placed - start, kind, u) if kind == "cancel" and t < placed else (t, kind, u)
                       for t, kind, u in self.events]
        self.events = [e for e in self.events if e[0] < end - self.quiet_before]
        self.events.sort(key=lambda e: (e[0], KINDS.index(e[1])))

    def _session(self) -> int:
        s = FAULT_SESSIONS
        while s in self.open:
            s += 1
        return s

    def _report(self, at: int, session: int, key: tuple) -> Op:
        """A usage report of `key` (task, provider, model), its counters drawn from the fault stream."""
        return Op("usage", at, session, {"task_id": key[0], "provider": key[1], "model": key[2],
                                         "input": self.rng.randint(1, 20_000), "output": self.rng.randint(0, 4_000),
                                         "cache_read": 0, "cache_write": 0, "created_at": None})

    def _uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    # ------------------------------------------------------------------ strikes

    def strike(self, gen, at: int, kind: str, payload) -> None:
        """Emit what the fault `kind` becomes at `at` into the generator's stream."""
        out = gen.out
        if kind == "late":
            self._late(gen, at, payload)
        elif kind == "late_end":
            session = payload
            late = self.open.pop(session, None)
            if late is None:  # a restart ended it already
                return
            out.append(Op("commit" if late["commit"] else "rollback", at, session, {}))
            if late["commit"]:
                gen.adopt(late["tenant"], late["task"])
        elif kind == "cancel":
            s, how = self._session(), self.rng.choice(("backend", "terminate", "timeout"))
            out.append(Op("lock", at, s, {"target": "state", "task_id": None}))
            out.append(Op("tick", at, 0, {"conn": NEMESIS_CONN, "wait": False,
                                          "timeout_ms": TIMEOUT_MS if how == "timeout" else None}))
            if how != "timeout":
                out.append(Op("wait_blocked", at, 0, {"conn": NEMESIS_CONN}))
                out.append(Op("cancel", at, 0, {"conn": NEMESIS_CONN, "how": how}))
            out.append(Op("await", at, 0, {"conn": NEMESIS_CONN}))
            out.append(Op("rollback", at, s, {}))
        elif kind == "race":
            self._race(gen, at)
        elif kind == "requeue":
            self._requeue(gen, at, retry=bool(payload))
        elif kind == "requeue_tick":
            self._requeue_tick(gen, at, *payload)
        elif kind == "lock_wait":
            self._lock_wait(gen, at)
        elif kind == "lock_wait_tick":
            self._lock_wait_tick(gen, at, payload)
        elif kind == "restart":
            out.append(Op("restart", at, 0, {}))
            self.open.clear()  # every held transaction died with the server
        elif kind == "backfill":
            out.append(Op("backfill", at, 0, {"months_back": None, "force": False, "conn": "backfill", "wait": True}))
        elif kind == "pause":
            if payload > at:  # not moved past its end by a check's quiet window
                out.append(Op("pause", at, 0, {"until": payload}))

    def _late(self, gen, at: int, planned: dict | None = None) -> None:
        """A new task and its usage, written in a transaction that commits (or rolls back) a latency later. Other
        operations see the task only once it committed (the generator adopts it then). `planned`: its latency and
        outcome, as [cover] placed it; else drawn."""
        tenants = [t for t in gen.tenants if t.alive and t.agents]
        if not tenants:
            return
        rng, r = self.rng, self.sc.rates
        ten = rng.choice(tenants)
        agent = rng.choice(ten.agents)
        issue = rng.choice(ten.issues) if ten.issues and rng.random() >= r.chat_share else None
        task = {"id": self._uid(), "agent_id": agent, "runtime_id": gen.agent_runtime[agent], "issue_id": issue}
        s = self._session()
        gen.out.append(Op("begin", at, s, {}))
        gen.out.append(Op("task", at, s, dict(task)))
        keys: list[tuple[str, str]] = []  # a list, not a set: the generator adopts them in this order, by seed
        for _ in range(rng.randint(*r.usage_rows_per_task)):
            provider = rng.choice([p for p, w in r.providers.items() if w > 0])
            model = rng.choice(r.models[provider])
            if (provider, model) in keys:
                continue
            keys.append((provider, model))
            gen.out.append(self._report(at, s, (task["id"], provider, model)))
        task["keys"] = keys
        commit = planned["commit"] if planned else rng.random() >= self.f.rollback_share
        self.open[s] = {"tenant": ten, "task": task, "commit": commit}
        gen.schedule(at + (planned["latency"] if planned else self._span(self.f.commit_latency)), "fault",
                     ("late_end", s))

    def _rolled_up(self, gen, at: int) -> tuple | None:
        """A usage key first reported long enough ago for its rollup rows to exist (20 draws, else none)."""
        for _ in range(20):
            k = gen.usage.choice(self.rng)
            if k and at - gen.first_report.get(k, at) >= ROLLED_UP:
                return k
        return None

    def _lock_wait(self, gen, at: int) -> None:
        """A tick whose upsert waits out its lock_timeout on rollup rows a writer holds, and fails with an error
        (55P03) the tick's own handler catches: a target that records its failures says so in the state row (B8's
        ground; a cancel or a terminated backend runs no handler). The key is reported now and the tick comes
        just past the 5 minutes a tick leaves uncovered, so the report's write time lies inside its window: the
        bucket is its work on a target that finds work by write time (the reference) and by what committed
        alike. (Reported again at the tick, its write time would move past the window.)"""
        key = self._rolled_up(gen, at)
        if key is not None:
            gen.out.append(self._report(at, self.rng.randrange(self.sc.pipeline.sessions), key))
            gen.schedule(at + LOCK_WAIT_AFTER, "fault", ("lock_wait_tick", key))

    def _lock_wait_tick(self, gen, at: int, key: tuple) -> None:
        if key not in gen.usage:  # deleted meanwhile
            return
        s, out = self._session(), gen.out
        out.append(Op("lock", at, s, {"target": "rollup", "task_id": key[0]}))
        out.append(Op("tick", at, 0, {"conn": NEMESIS_CONN, "wait": False, "timeout_ms": None}))
        out.append(Op("wait_blocked", at, 0, {"conn": NEMESIS_CONN}))
        out.append(Op("await", at, 0, {"conn": NEMESIS_CONN}))
        out.append(Op("rollback", at, s, {}))

    def _race(self, gen, at: int) -> None:
        """Writers touch a task's keys while a tick that has read them waits to write: a re-report makes the
        bucket part of the tick's work, a lock on its rollup rows holds the tick at its upsert (seen waiting),
        then the key is re-reported again (a re-enqueue of a queued key), a new row is written and another
        deleted, and the lock goes."""
        rng, r = self.rng, self.sc.rates
        key = self._rolled_up(gen, at)
        if key is None:
            return
        task, out = gen.tasks[key[0]], gen.out
        writer = lambda: rng.randrange(self.sc.pipeline.sessions)  # noqa: E731
        report = lambda k: self._report(at, writer(), k)  # noqa: E731

        s = self._session()
        out.append(report(key))
        out.append(Op("lock", at, s, {"target": "rollup", "task_id": task.id}))
        out.append(Op("tick", at, 0, {"conn": RACE_CONN, "wait": False, "timeout_ms": None}))
        out.append(Op("wait_blocked", at, 0, {"conn": RACE_CONN}))
        out.append(report(key))
        fresh = [(p, m) for p, w in r.providers.items() if w > 0 for m in r.models[p] if (p, m) not in task.keys]
        if fresh:
            new = (task.id, *rng.choice(fresh))
            out.append(report(new))
            task.keys.add(new[1:])
            gen.usage.add(new)
            gen.first_report.setdefault(new, at)
        others = [k for k in task.keys.items if k != key[1:]]
        if others:
            gone = rng.choice(others)
            out.append(Op("delete_usage", at, writer(), {"task_id": task.id, "provider": gone[0], "model": gone[1]}))
            task.keys.discard(gone)
            gen.usage.discard((task.id, *gone))
        out.append(Op("rollback", at, s, {}))
        out.append(Op("await", at, 0, {"conn": RACE_CONN}))

    def _requeue(self, gen, at: int, retry: bool) -> None:
        """A requeue's first half: a rolled-up key re-reported (work for the next tick on any target: by its write
        time) and another task moved to another runtime (its keys enqueued under both). Its second half comes
        just past the 5 minutes a tick leaves uncovered, so the tick it holds reads both. `retry`: if nothing fits
        now (or the world moved before the second half), try again a tick later — [cover] asked for it."""
        key = self._rolled_up(gen, at)
        mover = self._movable(gen, key[0]) if key else None
        if key is None or mover is None:
            if retry:
                gen.schedule(at + self.tick_every, "fault", ("requeue", True))
            return
        task, runtime = mover
        old, held = task.runtime, self._placed(gen, key[0])
        gen.out.append(self._report(at, self.rng.randrange(self.sc.pipeline.sessions), key))
        gen.out.append(Op("reassign_runtime", at, self.rng.randrange(self.sc.pipeline.sessions),
                          {"id": task.id, "runtime_id": runtime}))
        gen.relocate(task, "runtime", runtime, gen.by_runtime)
        gen.schedule(at + LOCK_WAIT_AFTER, "fault", ("requeue_tick", (key, held, task.id, old, retry)))

    @staticmethod
    def _placed(gen, task_id: str) -> tuple | None:
        """What a task's usage keys hang on besides the usage row: runtime, agent, issue and its project."""
        t = gen.tasks.get(task_id)
        return t and (t.runtime, t.agent, t.issue, gen.issue_project.get(t.issue))

    def _movable(self, gen, other_than: str) -> tuple | None:
        """A task with usage, not `other_than`, and a runtime of its workspace to move it to (20 draws, else none)."""
        for _ in range(20):
            k = gen.usage.choice(self.rng)
            task = gen.tasks.get(k[0]) if k else None
            others = [r for r in task.tenant.runtimes if r != task.runtime] if task and task.id != other_than else []
            if others:
                return task, self.rng.choice(others)
        return None

    def _requeue_tick(self, gen, at: int, key: tuple, held: str, task_id: str, old: str, retry: bool) -> None:
        """A requeue's second half: a lock on the re-reported key's rollup rows holds a tick at its upsert, after
        it read the moved task's keys from the queue (seen waiting); the task moves back, re-enqueueing both keys
        (a new version of queue rows the tick read), and the lock goes. A drain that deletes the rows it read by
        key alone loses the move back; the reference's keeps them (their enqueued_at is past the window)."""
        task = gen.tasks.get(task_id)
        if (key not in gen.usage or self._placed(gen, key[0]) != held or task is None
                or old not in task.tenant.runtimes):  # deleted, or its key moved, meanwhile
            if retry:
                gen.schedule(at + self.tick_every, "fault", ("requeue", True))
            return
        s, out = self._session(), gen.out
        out.append(Op("lock", at, s, {"target": "rollup", "task_id": key[0]}))
        out.append(Op("tick", at, 0, {"conn": REQUEUE_CONN, "wait": False, "timeout_ms": None}))
        out.append(Op("wait_blocked", at, 0, {"conn": REQUEUE_CONN}))
        out.append(Op("reassign_runtime", at, self.rng.randrange(self.sc.pipeline.sessions),
                      {"id": task_id, "runtime_id": old}))
        gen.relocate(task, "runtime", old, gen.by_runtime)
        out.append(Op("rollback", at, s, {}))
        out.append(Op("await", at, 0, {"conn": REQUEUE_CONN}))
