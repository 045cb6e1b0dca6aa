"""`rollup-bench migrate`: a target applied to a fresh database of a server, as far as asked (and back down and
up again for a round trip), each step told as it happens."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bench.orchestrate.request import ServerSpec


@dataclass(frozen=True)
class MigratePlan:
    target: str
    to: str | None = None  # the last version to apply (None: all)
    round_trip: bool = False
    hooks: bool = True  # the hook before 103
    at: datetime | None = None  # the simulated start instant


@dataclass(frozen=True)
class Told:
    """What migrating tells as it goes: clock warnings of the SQL, the server and target, each step applied."""

    warning: Callable[[str], None]
    started: Callable[[str, str, str], None]  # backend, server version, target name
    applied: Callable[[str, str], None]  # action (up, down), version


def migrate(spec: ServerSpec, plan: MigratePlan, told: Told) -> list[tuple[str, str]]:
    """The migrations applied at the end, as (version, file)."""
    from rollup import clock
    from rollup.database import Database
    from rollup.migrations import Runner, Target

    tgt = Target.resolve(plan.target)
    if plan.to:
        tgt.find(plan.to)
    with spec.start() as server, Database(server, plan.at) as db:
        for w in clock.scan(tgt.sql_files()):
            told.warning(str(w))
        runner = Runner(db, tgt, hooks={} if not plan.hooks else None, on_apply=told.applied)
        told.started(server.backend, server.version(), tgt.name)
        applied = runner.up(plan.to)
        if plan.round_trip:
            runner.down(None)
            applied = runner.up(plan.to)
        return [(m.version, m.up.parent.name + "/" + m.up.name) for m in tgt.migrations() if m.version in applied]
