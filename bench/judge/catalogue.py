"""The catalogue of known divergences of the modelled design (B1–B13, L1): the ids the bench is organised around,
declared once. Attribution explains bad keys by the ids whose rule is `attribution`; the baseline judges pieces
of divergence by every id; `repro` runs each id's reproduction. docs/catalogue.md says what each one is, and
tests/test_catalogue.py holds the two to each other and to the reproduction files.
"""

from __future__ import annotations

from dataclasses import dataclass

ATTRIBUTION = "attribution"  # a rule of bench/judge/attribution.py explains a bad key by its mechanism
DEFINITION = "definition"  # a piece of divergence is it by definition (bench/judge/baseline.py)


@dataclass(frozen=True)
class KnownDivergence:
    id: str
    title: str  # the reproduction's summary
    reachable: str  # whether the upstream application itself can trigger it, and how
    rule: str  # how the bench recognises it: ATTRIBUTION or DEFINITION
    repro: str  # its reproduction, from the project's root

    @property
    def anchor(self) -> str:
        return f"docs/catalogue.md#{self.id.lower()}"


def _d(id_: str, title: str, reachable: str, rule: str = ATTRIBUTION) -> KnownDivergence:
    return KnownDivergence(id_, title, reachable, rule, f"scenarios/repro/{id_}.toml")


CATALOGUE: tuple[KnownDivergence, ...] = (
    _d("B1", "Hard-deleting an agent leaves its buckets forever", "yes: system agents are hard-deleted"),
    _d("B2", "Issue triggers key the issue's workspace, the rollup the agent's",
       "yes: the schema allows an agent and an issue in different workspaces"),
    _d("B3", "Drain race: a dirty row committed between recompute and drain is deleted unprocessed",
       "yes: cron needs a writer older than 5 minutes; backfill and any window with p_to ahead are exposed"),
    _d("B4", "Late commit: a write committed after the watermark passed its start time is lost",
       "yes: an upsert blocked on a row lock"),
    _d("B5", "Prune after a long pause drops unprocessed invalidations", "yes: a paused worker"),
    _d("B6", "Backfill months bounded by max(created_at) miss rows updated later", "yes"),
    _d("B7", "The pre-103 hook's stamp skips the last hour's usage", "yes"),
    _d("B8", "A failing tick's error is never persisted", "yes", DEFINITION),
    _d("B9", "Backfill's last slice: concurrent writes end up behind the final stamp",
       "analysis only upstream; reproduced here with a waitpoint"),
    _d("B10", "Hour buckets misplace usage near local midnight in :30/:45 zones", "yes, structural", DEFINITION),
    _d("B11", "A zone name accepted by the application fails every date-sliced report", "yes", DEFINITION),
    _d("B12", "Changing a task's agent leaves the old agent's bucket stale", "latent: no application path today"),
    _d("B13", "Updates of task_usage that change its key, or skip updated_at, are never seen", "latent"),
    _d("L1", "Cancelled tick leaks lock 4246; ticks elsewhere return 0 while work is pending",
       "yes: fixed upstream later with a transaction-scoped lock"),
)

BY_ID: dict[str, KnownDivergence] = {d.id: d for d in CATALOGUE}
EVERY: tuple[str, ...] = tuple(BY_ID)
ATTRIBUTED: tuple[str, ...] = tuple(d.id for d in CATALOGUE if d.rule == ATTRIBUTION)
