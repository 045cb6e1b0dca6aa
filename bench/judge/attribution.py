"""Attribution: the catalogue ids (docs/catalogue.md) whose mechanism explains a bad key, from the operations and
faults that touched it. A key nothing explains is a finding: the catalogue is incomplete, or the bench is wrong.

Each rule reads the history only — what touched the key (`checker.touching`), and the faults around it:
- B1  an agent (or its workspace) hard-deleted: the cascade runs after the agent row is gone;
- B2  an issue of another workspace than the key's, deleted or moved to another project (its project deleted
      too: ON DELETE SET NULL moves it to none);
- B3  a write committed while a tick (or a backfill) waited at a waitpoint between its read and its write;
- B4  a write in a transaction that committed more than 5 minutes after it began;
- B5  a gap between ticks longer than the queue's 7-day retention (a pause, or a stall behind a leaked lock),
      and a write the triggers enqueue touching the key within it, a day or more after the gap began and 7 days
      or more before it ended: the first tick after it catches up one day, then prunes that dirty row unread;
- B6  a backfill after a usage row was re-reported in a later month than it was created in;
- B7  a migration run (through the pre-103 hook) within an hour after a write that touched the key: the hook
      stamps the watermark past the write without rolling it up;
- B9  a write committed while a backfill (not a tick) waited at its waitpoint: the final stamp passes it;
- B12 a task's agent_id changed; B13 a usage row re-keyed, moved to another task, or updated without a bump (the
      ids a kind explains wherever it touched a key are the registry's: bench/workload/kinds.py);
- L1  a tick cancelled or timed out (not terminated: that ends its session), with no restart since, and the key
      touched after what the ticks before it covered — the watermark they left, which trails their times by more
      than 5 minutes while they catch up a day each after a stall (a held transaction's writes touch when they
      commit): its session-level lock stays with the pooled connection and every later tick on another
      connection finds it taken (one on that connection takes it again, and may well do work).
"""

from __future__ import annotations

import polars as pl

from bench.judge.catalogue import ATTRIBUTED
from bench.workload.kinds import KINDS, acting_on, deleting, repointing
from bench.workload.ops import WRITES
from rollup.pipeline import ALLOWANCE, CATCH_UP, RETENTION
from rollup.units import MINUTE

QUEUED = [name for name, k in KINDS.items() if k.group == "write"]  # writes the dirty-queue triggers see
IDS = ATTRIBUTED  # the catalogue's ids whose rule is here (bench/judge/catalogue.py)


class Evidence:
    """The faults of a history, found once per check, that the rules look keys up against."""

    def __init__(self, ops: pl.DataFrame):
        rows = ops.select("i", "f", "at", "p", "conn", "outcome", "err", "r").to_dicts()
        self.late: set[int] = set()  # writes of transactions that committed late
        self.committed: dict[int, int] = {}  # write inside a held transaction -> when it committed
        self.raced: set[int] = set()  # writes committed while background work waited at its waitpoint
        self.raced_backfill: set[int] = set()  # those committed while the waiting work was a backfill
        self.migrations: list[int] = []  # times of successful migration runs (a script's `migrate`)
        # (index, what the ticks before it had covered, its connection) of ticks cancelled or timed out with their
        # session kept, as long as no later tick on another connection wrote anything (the proof of a leaked lock:
        # every tick elsewhere does nothing). What they covered is the watermark, 5 minutes added: a tick moves it
        # to 5 minutes before its time, but a day at most, so after a stall the ticks cover less than their times.
        self.cancels: list[tuple[int, int | None, str]] = []
        self.long_pauses: list[tuple[int, int]] = []  # (at, until) of pauses past the retention
        self.backfills: list[int] = []  # times of successful backfills
        opened: dict[int, tuple[int, list[int]]] = {}  # session -> (begin's time, its writes)
        racing: dict[str, str] = {}  # connection -> what waits there at its waitpoint (tick, backfill), until awaited
        started: dict[str, str] = {}  # connection -> the pipeline work last started on it
        last_tick = watermark = None
        for r in rows:
            f = r["f"]
            if f in ("begin", "lock") and r["p"] not in opened:
                opened[r["p"]] = (r["at"], [])
            elif f in ("commit", "rollback") and r["p"] in opened:
                began, writes = opened.pop(r["p"])
                if f == "commit":
                    self.committed.update(dict.fromkeys(writes, r["at"]))
                    if racing:  # it committed while a tick waited at its waitpoint
                        self.raced.update(writes)
                        if "backfill" in racing.values():
                            self.raced_backfill.update(writes)
                    if r["at"] - began > ALLOWANCE:
                        self.late.update(writes)
            elif r["p"] in opened and f not in ("restart",):
                opened[r["p"]][1].append(r["i"])
            if f == "restart":
                self._stall_ends(r["at"])
                self.cancels = []  # every session ended, and its locks with it
                opened.clear()
            elif f == "wait_blocked":
                racing[r["conn"]] = started.get(r["conn"], "tick")
            elif f == "await":
                racing.pop(r["conn"], None)
            elif racing and f in WRITES:
                self.raced.add(r["i"])
                if "backfill" in racing.values():
                    self.raced_backfill.add(r["i"])
            elif f == "migrate" and r["outcome"] == "ok":
                self.migrations.append(r["at"])
            elif f == "tick" and (r["err"] or "").startswith("57014"):
                covered = None if watermark is None else watermark + ALLOWANCE
                self.cancels.append((r["i"], covered, r["conn"]))  # (a terminated one took its session along)
            if f in ("tick", "backfill") and r["conn"]:
                started[r["conn"]] = f
            if f == "tick" and r["outcome"] == "ok":  # a gap between ticks past the retention: a pause (or a script's)
                worked = (r["r"] or 0) > 0
                holders = {conn for _, _, conn in self.cancels}
                if worked or holders <= {r["conn"]}:  # not stalled: no lock held elsewhere keeps it from working
                    to = r["at"] - ALLOWANCE
                    watermark = to if watermark is None else max(watermark, min(to, watermark + CATCH_UP))
                if worked and r["conn"] not in holders:
                    self._stall_ends(r["at"])
                    self.cancels = []  # a tick on another connection did work: what those held was not leaked
                    # (one on the holding connection proves nothing: its session takes its own lock again)
                if last_tick is not None and r["at"] - last_tick > RETENTION:
                    self.long_pauses.append((last_tick, r["at"]))
                last_tick = r["at"]
            elif f == "backfill" and r["outcome"] == "ok":
                self.backfills.append(r["at"])
                watermark = r["at"] - ALLOWANCE  # its stamp
        if rows:
            self._stall_ends(rows[-1]["at"])
        issues = ops.filter(pl.col("f") == "issue").select("id", "workspace_id")
        self.issue_workspace = dict(zip(issues.get_column("id").to_list(), issues.get_column("workspace_id").to_list()))

    def _stall_ends(self, at: int) -> None:
        """A leaked lock stalls the pipeline like a pause (ticks on the holding connection still catch up a day
        each and prune the queue behind them): past the retention, it counts as a long pause (B5)."""
        if self.cancels:
            began = self.cancels[0][1]
            if began is not None and at - began > RETENTION:
                self.long_pauses.append((began, at))

    def leaked(self, last_touch: int) -> bool:
        """A cancelled tick's lock is still held (no restart since), and the key's last touch came after what
        the last good tick before it covered: every tick that could have rolled the touch up found the lock taken."""
        return any(good is None or last_touch >= good - ALLOWANCE for _, good, _ in self.cancels)


def explain(hit: pl.DataFrame, key: dict, ctx: Evidence) -> list[str]:
    """The catalogue ids whose mechanism the operations that touched `key` (`hit`) show."""
    kinds = set(hit.get_column("f").to_list())
    touched = set(hit.get_column("i").to_list())
    by_kind = {x for k in kinds for x in KINDS[k].explains}  # ids a kind explains wherever it touched
    ids = ["B1"] if "B1" in by_kind else []
    if kinds & {*acting_on("issue"), *deleting("project")}:  # (a project delete changes its issues')
        issues = hit.filter(pl.col("f").is_in(["task", *repointing("task", "issue_id")])).get_column("issue_id")
        issues = issues.drop_nulls()
        if any(ctx.issue_workspace.get(i) not in (None, key["workspace_id"]) for i in issues.to_list()):
            ids.append("B2")
    if touched & ctx.raced:
        ids.append("B3")
    if touched & ctx.late:
        ids.append("B4")
    first = hit.get_column("at").min() if hit.height else None
    queued = hit.filter(pl.col("f").is_in(QUEUED)).get_column("at").to_list()
    if any(began + CATCH_UP - ALLOWANCE <= t <= ended - RETENTION + ALLOWANCE
           for t in queued for began, ended in ctx.long_pauses):
        ids.append("B5")
    if ctx.backfills and first is not None and max(ctx.backfills) > first:
        month = lambda c: pl.from_epoch(c, time_unit="us").dt.truncate("1mo")  # noqa: E731
        rows = hit.filter(pl.col("f") == "usage").group_by("task_id", "provider", "model").agg(
            created=month(pl.coalesce("created_at", "at")).first(), written=month(pl.col("at")).max())
        if rows.filter(pl.col("written") > pl.col("created")).height:
            ids.append("B6")
    if any(0 <= m - t <= 60 * MINUTE for t in hit.get_column("at").to_list() for m in ctx.migrations):
        ids.append("B7")
    if touched & ctx.raced_backfill:
        ids.append("B9")
    ids += [x for x in ("B12", "B13") if x in by_kind]
    if hit.height and ctx.leaked(max(ctx.committed.get(i, at) for i, at in hit.select("i", "at").iter_rows())):
        ids.append("L1")
    return ids
