"""Operations: what the generator proposes, the client applies and the history records.

An operation is a name, a simulated time (microseconds since the Unix epoch), the client session that applies it
and a flat value of JSON scalars. Ids are UUID strings chosen by the generator, so the history alone says what
was written, independent of PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# name -> the fields of its value. Order is the order of the history's columns.
CATALOG: dict[str, tuple[str, ...]] = {
    # entities (setup and replacements)
    "workspace": ("id", "name", "slug"),
    "user": ("id", "name", "email", "timezone"),
    "runtime": ("id", "workspace_id", "name", "provider", "daemon_id"),
    "agent": ("id", "workspace_id", "runtime_id", "name"),
    "project": ("id", "workspace_id", "title"),
    "issue": ("id", "workspace_id", "project_id", "number", "title", "creator_id"),
    "task": ("id", "agent_id", "runtime_id", "issue_id"),
    # usage, as the application reports it
    "usage": ("task_id", "provider", "model", "input", "output", "cache_read", "cache_write", "created_at"),
    # consistent mutations
    "delete_usage": ("task_id", "provider", "model"),
    "delete_task": ("id",),
    "delete_issue": ("id",),
    "delete_agent": ("id",),
    "delete_runtime": ("id",),
    "delete_project": ("id",),
    "delete_workspace": ("id",),
    "reassign_runtime": ("id", "runtime_id"),
    "link_issue": ("id", "issue_id"),
    "change_issue_project": ("id", "project_id"),
    # assumption breakers (only when a scenario enables them)
    "change_agent": ("id", "agent_id"),
    "change_usage_key": ("task_id", "provider", "model", "new_task_id", "new_provider", "new_model", "new_created_at"),
    "update_no_bump": ("task_id", "provider", "model", "input", "output", "cache_read", "cache_write"),
    # the pipeline, its faults, and the checker (scripted scenarios: see bench/steps.py)
    "tick": ("conn", "wait", "timeout_ms"),
    "await": ("conn",),
    "wait_blocked": ("conn",),
    "cancel": ("conn", "how"),
    "begin": (),
    "commit": (),
    "rollback": (),
    "lock": ("target", "task_id"),
    "backfill": ("months_back", "force", "conn", "wait"),
    "migrate": ("to",),
    "restart": (),
    "pause": ("until",),  # the scheduler stops ticking until then (generated scenarios' fault schedule)
    "check": ("final",),
}

# Pipeline actions and faults the runner imposes (scripted scenarios), and the writes the application never makes:
# their failures are part of what a scenario does, so by default a verdict allows them. Every other kind — the
# application's own writes, and ticks — must succeed unless the scenario says otherwise.
FAULTS = frozenset({"await", "wait_blocked", "cancel", "begin", "commit", "rollback", "lock", "backfill",
                    "migrate", "restart", "pause"})
BREAKERS = frozenset({"change_agent", "change_usage_key", "update_no_bump"})
WORKLOAD = frozenset(CATALOG) - FAULTS - {"tick", "check"}  # what the client applies
ENTITIES = frozenset({"workspace", "user", "runtime", "agent", "project", "issue"})
WRITES = WORKLOAD - ENTITIES  # what can dirty a rollup key (and what a trimmed replay may leave out)
# Operations the client may apply in bulk (COPY) between other operations: plain inserts and usage reports.
BULK = frozenset({"task", "usage"})
# Every field any operation uses, for the history's columnar schema.
FIELDS: tuple[str, ...] = tuple(dict.fromkeys(f for fields in CATALOG.values() for f in fields))
TIME_FIELDS = frozenset({"created_at", "new_created_at"})
INT_FIELDS = frozenset({"number", "input", "output", "cache_read", "cache_write", "timeout_ms", "months_back",
                        "until"}) | TIME_FIELDS
BOOL_FIELDS = frozenset({"final", "wait", "force"})


@dataclass
class Op:
    name: str
    at: int  # simulated microseconds since the epoch; the transaction's start time
    session: int = 0
    value: dict = field(default_factory=dict)
    index: int = -1  # position in the history, set when recorded

    def __post_init__(self):
        unknown = set(self.value) - set(CATALOG[self.name])
        if unknown:
            raise ValueError(f"operation {self.name}: unknown fields {sorted(unknown)}")

    def get(self, key: str):
        return self.value.get(key)
