"""What each fault of the schedule becomes in the generator's stream: its strike, registered under the fault's
name (`@strikes`) as the runner registers its actions, and held to the registry (bench/workload/faults.py) by
tests/test_fault_registry.py. A strike emits operations; follow-ups it schedules (a late transaction's end, a lock
wait's or a requeue's tick) are strikes too.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable

from bench.workload.faults import (FAULT_SESSIONS, LOCK_WAIT_AFTER, NEMESIS_CONN, RACE_CONN, REQUEUE_CONN,
                                   ROLLED_UP, TIMEOUT_MS)
from bench.workload.ops import Op
from rollup.units import US

STRIKES: dict[str, Callable] = {}


def strikes(*names: str) -> Callable:
    def register(fn: Callable) -> Callable:
        for name in names:
            STRIKES[name] = fn
        return fn
    return register


class Strikes:
    """The strikes of a Schedule (its fault stream `rng`, scenario `sc`, `[faults]` `f`, held sessions `open`)."""

    rng: random.Random
    open: dict[int, dict]
    tick_every: int

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
        """Emit what the fault `kind` (or a follow-up of one: a late transaction's end, a requeue's tick) becomes
        at `at` into the generator's stream."""
        STRIKES[kind](self, gen, at, payload)

    @strikes("late_end")
    def _late_end(self, gen, at: int, session: int) -> None:
        late = self.open.pop(session, None)
        if late is None:  # a restart ended it already
            return
        gen.put(Op("commit" if late["commit"] else "rollback", at, session, {}))
        if late["commit"]:
            gen.adopt(late["tenant"], late["task"])

    @strikes("cancel")
    def _cancel(self, gen, at: int, _) -> None:
        s, how, out = self._session(), self.rng.choice(("backend", "terminate", "timeout")), gen.put
        out(Op("lock", at, s, {"target": "state", "task_id": None}))
        out(Op("tick", at, 0, {"conn": NEMESIS_CONN, "wait": False,
                               "timeout_ms": TIMEOUT_MS if how == "timeout" else None}))
        if how != "timeout":
            out(Op("wait_blocked", at, 0, {"conn": NEMESIS_CONN}))
            out(Op("cancel", at, 0, {"conn": NEMESIS_CONN, "how": how}))
        out(Op("await", at, 0, {"conn": NEMESIS_CONN}))
        out(Op("rollback", at, s, {}))

    @strikes("restart")
    def _restart(self, gen, at: int, _) -> None:
        gen.put(Op("restart", at, 0, {}))
        self.open.clear()  # every held transaction died with the server

    @strikes("backfill")
    def _backfill(self, gen, at: int, _) -> None:
        gen.put(Op("backfill", at, 0, {"months_back": None, "force": False, "conn": "backfill", "wait": True}))

    @strikes("pause", "long_pause")
    def _pause(self, gen, at: int, until: int) -> None:
        if until > at:  # not moved past its end by a check's quiet window
            gen.put(Op("pause", at, 0, {"until": until}))

    @strikes("late")
    def _late(self, gen, at: int, planned: dict | None = None) -> None:
        """A new task and its usage, written in a transaction that commits (or rolls back) a latency later. Other
        operations see the task only once it committed (the generator adopts it then). `planned`: its latency and
        outcome, as [cover] placed it; else drawn."""
        tenants = gen.live_tenants()
        if not tenants:
            return
        rng, r = self.rng, self.sc.rates
        ten = rng.choice(tenants)
        agent = rng.choice(ten.agents)
        issue = rng.choice(ten.issues) if ten.issues and rng.random() >= r.chat_share else None
        task = {"id": self._uid(), "agent_id": agent, "runtime_id": gen.runtime_of(agent), "issue_id": issue}
        s = self._session()
        gen.put(Op("begin", at, s, {}))
        gen.put(Op("task", at, s, dict(task)))
        keys: list[tuple[str, str]] = []  # a list, not a set: the generator adopts them in this order, by seed
        for _ in range(rng.randint(*r.usage_rows_per_task)):
            provider = rng.choice([p for p, w in r.providers.items() if w > 0])
            model = rng.choice(r.models[provider])
            if (provider, model) in keys:
                continue
            keys.append((provider, model))
            gen.put(self._report(at, s, (task["id"], provider, model)))
        task["keys"] = keys
        commit = planned["commit"] if planned else rng.random() >= self.f.rollback_share
        self.open[s] = {"tenant": ten, "task": task, "commit": commit}
        gen.schedule(at + (planned["latency"] if planned else self._span(self.f.commit_latency)), "fault",
                     ("late_end", s))

    def _rolled_up(self, gen, at: int) -> tuple | None:
        """A usage key first reported long enough ago for its rollup rows to exist (20 draws, else none)."""
        for _ in range(20):
            k = gen.pick_usage(self.rng)
            if k and at - gen.first_reported(k, at) >= ROLLED_UP:
                return k
        return None

    @strikes("lock_wait")
    def _lock_wait(self, gen, at: int, _=None) -> None:
        """A tick whose upsert waits out its lock_timeout on rollup rows a writer holds, and fails with an error
        (55P03) the tick's own handler catches: a target that records its failures says so in the state row (B8's
        ground; a cancel or a terminated backend runs no handler). The key is reported now and the tick comes
        just past the 5 minutes a tick leaves uncovered, so the report's write time lies inside its window: the
        bucket is its work on a target that finds work by write time (the reference) and by what committed
        alike. (Reported again at the tick, its write time would move past the window.)"""
        key = self._rolled_up(gen, at)
        if key is not None:
            gen.put(self._report(at, self.rng.randrange(self.sc.pipeline.sessions), key))
            gen.schedule(at + LOCK_WAIT_AFTER, "fault", ("lock_wait_tick", key))

    @strikes("lock_wait_tick")
    def _lock_wait_tick(self, gen, at: int, key: tuple) -> None:
        if not gen.has_usage(key):  # deleted meanwhile
            return
        s, out = self._session(), gen.put
        out(Op("lock", at, s, {"target": "rollup", "task_id": key[0]}))
        out(Op("tick", at, 0, {"conn": NEMESIS_CONN, "wait": False, "timeout_ms": None}))
        out(Op("wait_blocked", at, 0, {"conn": NEMESIS_CONN}))
        out(Op("await", at, 0, {"conn": NEMESIS_CONN}))
        out(Op("rollback", at, s, {}))

    @strikes("race")
    def _race(self, gen, at: int, _=None) -> None:
        """Writers touch a task's keys while a tick that has read them waits to write: a re-report makes the
        bucket part of the tick's work, a lock on its rollup rows holds the tick at its upsert (seen waiting),
        then the key is re-reported again (a re-enqueue of a queued key), a new row is written and another
        deleted, and the lock goes."""
        rng, r = self.rng, self.sc.rates
        key = self._rolled_up(gen, at)
        if key is None:
            return
        task, out = gen.task(key[0]), gen.put
        writer = lambda: rng.randrange(self.sc.pipeline.sessions)  # noqa: E731
        report = lambda k: self._report(at, writer(), k)  # noqa: E731

        s = self._session()
        out(report(key))
        out(Op("lock", at, s, {"target": "rollup", "task_id": task.id}))
        out(Op("tick", at, 0, {"conn": RACE_CONN, "wait": False, "timeout_ms": None}))
        out(Op("wait_blocked", at, 0, {"conn": RACE_CONN}))
        out(report(key))
        fresh = [(p, m) for p, w in r.providers.items() if w > 0 for m in r.models[p] if (p, m) not in task.keys]
        if fresh:
            new = (task.id, *rng.choice(fresh))
            out(report(new))
            gen.note_usage(new, at)
        others = [k for k in task.keys.items if k != key[1:]]
        if others:
            gone = rng.choice(others)
            out(Op("delete_usage", at, writer(), {"task_id": task.id, "provider": gone[0], "model": gone[1]}))
            gen.forget_usage((task.id, *gone))
        out(Op("rollback", at, s, {}))
        out(Op("await", at, 0, {"conn": RACE_CONN}))

    # A requeue: a rolled-up key re-reported and another task moved to another runtime (its keys enqueued under
    # both), then, just past the 5 minutes a tick leaves uncovered, a tick held at its upsert after it read them
    # from the queue while the task moves back (a new version of the queue rows it read) and the lock goes. How
    # the move back dates itself (ENQUEUED): later, by a writer then; equal or earlier, by a writer whose
    # transaction began at the first move or before it — the enqueue keeps the greater time, so only the row's
    # version tells it from what the tick read. A drain deleting what it read by key alone loses the move back
    # whatever its date; one deleting by key and enqueued_at, only an equal or earlier one.

    @strikes("requeue")
    def _requeue(self, gen, at: int, asked: str | None) -> None:
        """`asked`: what [cover] placed (retried a tick later until it fits), None: drawn at its rate (later)."""
        mode = asked or "later"
        if mode != "earlier":
            self._requeue_first(gen, at, (mode, asked, None))
        elif self._requeue_pick(gen, at, asked):  # the writer's transaction begins, the first move a little later
            writer = self._session()
            self.open[writer] = {"requeue": True}
            gen.put(Op("begin", at, writer, {}))
            gen.schedule(at + self.rng.randint(US, 20 * US), "fault", ("requeue_first", (mode, asked, writer)))

    def _requeue_pick(self, gen, at: int, again: str | None) -> tuple | None:
        """A rolled-up key and a task to move (20 draws each); if none fits, `again` a tick later, if asked."""
        key = self._rolled_up(gen, at)
        mover = self._movable(gen, key[0]) if key else None
        if key is None or mover is None:
            if again:
                gen.schedule(at + self.tick_every, "fault", ("requeue", again))
            return None
        return key, mover

    @strikes("requeue_first")
    def _requeue_first(self, gen, at: int, plan: tuple) -> None:
        mode, again, writer = plan
        picked = self._requeue_pick(gen, at, again)
        if picked is None:
            self._end_writer(gen, at, writer, commit=False)
            return
        key, (task, runtime) = picked
        old, held = task.runtime, gen.placement(key[0])
        gen.put(self._report(at, self.rng.randrange(self.sc.pipeline.sessions), key))
        gen.put(Op("reassign_runtime", at, self.rng.randrange(self.sc.pipeline.sessions),
                   {"id": task.id, "runtime_id": runtime}))
        gen.move_runtime(task, runtime)
        if mode == "equal":  # its transaction begins as the first move commits: the same now()
            writer = self._session()
            self.open[writer] = {"requeue": True}
            gen.put(Op("begin", at, writer, {}))
        gen.schedule(at + LOCK_WAIT_AFTER, "fault", ("requeue_tick", (key, held, task.id, old, again, writer)))

    def _end_writer(self, gen, at: int, writer: int | None, commit: bool) -> None:
        if writer is not None and self.open.pop(writer, None) is not None:  # (a restart ended it already)
            gen.put(Op("commit" if commit else "rollback", at, writer, {}))

    def _movable(self, gen, other_than: str) -> tuple | None:
        """A task with usage, not `other_than`, and a runtime of its workspace to move it to (20 draws, else none)."""
        for _ in range(20):
            k = gen.pick_usage(self.rng)
            task = gen.task(k[0]) if k else None
            others = [r for r in task.tenant.runtimes if r != task.runtime] if task and task.id != other_than else []
            if others:
                return task, self.rng.choice(others)
        return None

    @strikes("requeue_tick")
    def _requeue_tick(self, gen, at: int, plan: tuple) -> None:
        key, held, task_id, old, again, writer = plan
        task = gen.task(task_id)
        if (not gen.has_usage(key) or gen.placement(key[0]) != held or task is None
                or old not in task.tenant.runtimes):  # deleted, or its key moved, meanwhile
            self._end_writer(gen, at, writer, commit=False)
            if again:
                gen.schedule(at + self.tick_every, "fault", ("requeue", again))
            return
        s, out = self._session(), gen.put
        out(Op("lock", at, s, {"target": "rollup", "task_id": key[0]}))
        out(Op("tick", at, 0, {"conn": REQUEUE_CONN, "wait": False, "timeout_ms": None}))
        out(Op("wait_blocked", at, 0, {"conn": REQUEUE_CONN}))
        by = self.rng.randrange(self.sc.pipeline.sessions)
        out(Op("reassign_runtime", at, writer if writer in self.open else by, {"id": task_id, "runtime_id": old}))
        gen.move_runtime(task, old)
        self._end_writer(gen, at, writer, commit=True)
        out(Op("rollback", at, s, {}))
        out(Op("await", at, 0, {"conn": REQUEUE_CONN}))
