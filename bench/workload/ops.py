"""Operations: what the generator proposes, the client applies and the history records.

An operation is a name, a simulated time (microseconds since the Unix epoch), the client session that applies it
and a flat value of JSON scalars. Ids are UUID strings chosen by the generator, so the history alone says what
was written, independent of PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.workload.kinds import BREAKER, ENTITY, FAULT, KINDS

# name -> the fields of its value, from the registry (bench/workload/kinds.py). Order is the order of the history's columns.
CATALOG: dict[str, tuple[str, ...]] = {name: k.fields for name, k in KINDS.items()}

# Pipeline actions and faults the runner imposes (scripted scenarios), and the writes the application never makes:
# their failures are part of what a scenario does, so by default a verdict allows them. Every other kind — the
# application's own writes, and ticks — must succeed unless the scenario says otherwise.
FAULTS = frozenset(name for name, k in KINDS.items() if k.group == FAULT)
BREAKERS = frozenset(name for name, k in KINDS.items() if k.group == BREAKER)
WORKLOAD = frozenset(CATALOG) - FAULTS - {"tick", "check"}  # what the client applies
ENTITIES = frozenset(name for name, k in KINDS.items() if k.group == ENTITY)
WRITES = WORKLOAD - ENTITIES  # what can dirty a rollup key (and what a trimmed replay may leave out)
# Operations the client may apply in bulk (COPY) between other operations: plain inserts and usage reports.
BULK = frozenset({"task", "usage"})
# Every field any operation uses, for the history's columnar schema.
FIELDS: tuple[str, ...] = tuple(dict.fromkeys(f for fields in CATALOG.values() for f in fields))
TIME_FIELDS = frozenset({"created_at", "new_created_at"})
INT_FIELDS = frozenset({"number", "input", "output", "cache_read", "cache_write", "timeout_ms", "months_back",
                        "until"}) | TIME_FIELDS
BOOL_FIELDS = frozenset({"final", "wait", "force"})
# Kinds whose value may also carry a target's optional raw usage columns (rollup.measures.Column), by their names:
# the history records them only when the target declares them (bench/drive/history.py).
EXTENDED = frozenset({"usage"})


@dataclass
class Op:
    name: str
    at: int  # simulated microseconds since the epoch; the transaction's start time
    session: int = 0
    value: dict = field(default_factory=dict)
    index: int = -1  # position in the history, set when recorded

    def __post_init__(self):
        unknown = set(self.value) - set(CATALOG[self.name])
        if unknown and self.name not in EXTENDED:
            raise ValueError(f"operation {self.name}: unknown fields {sorted(unknown)}")

    def get(self, key: str):
        return self.value.get(key)
