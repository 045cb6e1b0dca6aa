"""What a generated run covered — the production faults that ran and took effect, and the classes of the zones
its sessions ran in — read from the history alone, and held to what its `[cover]` asked for.

- a late commit: a transaction the nemesis held open (`begin` … `commit`) that wrote something, committed, and
  was open across a tick; within the watermark's 5-minute allowance or past it, by how long it was open;
- a requeue: a tick on the requeue connection seen waiting at its waitpoint, while a write the dirty-queue
  triggers see applied, before the tick was awaited; and how that write dated itself (its transaction's start)
  against the last write of the same row before the tick (later, equal or earlier);
- every other count a fault of the registry (bench/workload/faults.py) declares, by its rule;
- the zone classes: each application role's session zone (the history's header), whole-hour or not over the run
  by the checker's own calendar (`bench/judge/days.py`).
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from bench.judge import days
from bench.judge.attribution import QUEUED
from bench.workload.faults import ASKS, BY_NAME, COUNTS, ENQUEUED, REGISTRY, swarm
from bench.workload.scenario import ODD_ROLES, Scenario
from bench.workload.zones import offsets
from rollup.pipeline import ALLOWANCE, RETENTION

ODD, WHOLE, UTC = "non-whole-hour", "whole-hour", "UTC"


def _late(ops: pl.DataFrame) -> dict[str, int]:
    """Late commits within and past the allowance, and held transactions that ended otherwise."""
    control = ops.filter(pl.col("f").is_in(("begin", "commit", "rollback", "restart")))
    ticks = ops.filter(pl.col("f") == "tick").get_column("at")
    applied = ops.filter(pl.col("f").is_in(QUEUED + ["usage", "task"]) & (pl.col("outcome") == "ok"))
    out = {"within": 0, "past": 0, "not_committed": 0}
    opened: dict[int, tuple[int, int]] = {}  # session -> (begin's index, its time)
    for i, f, at, p, outcome in control.select("i", "f", "at", "p", "outcome").iter_rows():  # a few a run
        if f == "begin":
            opened[p] = (i, at)
        elif f == "restart":
            out["not_committed"] += len(opened)
            opened.clear()
        elif p in opened:
            j, began = opened.pop(p)
            wrote = applied.filter((pl.col("p") == p) & (pl.col("i") > j) & (pl.col("i") < i)).height
            across = ((ticks > began) & (ticks <= at)).any()
            if f == "commit" and outcome == "ok" and wrote and across:
                out["within" if at - began <= ALLOWANCE else "past"] += 1
            else:
                out["not_committed"] += 1
    return out


def _spans(ops: pl.DataFrame, conn: str) -> list[tuple[int, int]]:
    """(wait_blocked, await) indexes of the ticks on `conn` seen waiting at a waitpoint."""
    on = ops.filter(pl.col("conn").eq_missing(conn) & pl.col("f").is_in(("wait_blocked", "await")))
    spans, blocked = [], None
    for i, f, outcome in on.select("i", "f", "outcome").iter_rows():
        if f == "wait_blocked":
            blocked = i if outcome == "ok" else None
        elif blocked is not None:
            spans.append((blocked, i))
            blocked = None
    return spans


def _held(ops: pl.DataFrame, conn: str, writes: bool) -> int:
    """Ticks on `conn` seen waiting at a waitpoint (and, with `writes`, raced by an applied queued write before
    they were awaited)."""
    queued = ops.filter(pl.col("f").is_in(QUEUED) & (pl.col("outcome") == "ok")).get_column("i")
    return sum(not writes or bool(((queued > a) & (queued < b)).any()) for a, b in _spans(ops, conn))


def _requeued(ops: pl.DataFrame, conn: str) -> dict[str, int]:
    """Held ticks on `conn` by how the queued write racing them dated itself against the last write of the same
    row before the tick was held: its transaction began later, at the same instant, or earlier (the earliest of
    its racing writes counts)."""
    queued = ops.filter(pl.col("f").is_in(QUEUED) & (pl.col("outcome") == "ok")).select(
        "i", "start", row=pl.coalesce("id", "task_id"))
    out = dict.fromkeys(ENQUEUED, 0)
    for a, b in _spans(ops, conn):
        seen = []
        for _, start, row in queued.filter((pl.col("i") > a) & (pl.col("i") < b)).iter_rows():
            before = queued.filter((pl.col("row") == row) & (pl.col("i") < a)).get_column("start")
            if before.len():
                last = before[-1]
                seen.append(2 if start < last else 1 if start == last else 0)
        if seen:
            out[ENQUEUED[max(seen)]] += 1
    return out


def _count(ops: pl.DataFrame, conn: str | None, rule: str, arg: str):
    ok = pl.col("outcome") == "ok"
    if rule == "late":
        return _late(ops)
    if rule in ("held", "held_raced"):
        return _held(ops, conn, writes=rule == "held_raced")
    if rule == "enqueued":
        return _requeued(ops, conn)
    if rule == "ok":
        return ops.filter((pl.col("f") == arg) & ok).height
    if rule == "timeouts":
        return ops.filter((pl.col("f") == "tick") & pl.col("timeout_ms").is_not_null()).height
    if rule == "pauses":
        length = ops.filter((pl.col("f") == "pause") & ok).select(length=pl.col("until") - pl.col("at"))
        return length.filter((pl.col("length") >= RETENTION) == (arg == "long")).height
    raise ValueError(f"no coverage rule {rule!r}")


def _zones(header: dict, sc: Scenario) -> dict[str, dict[str, str]]:
    """Each role's session zone and its class: the server's default stands in for a role that sets none."""
    zones = header.get("session_zones") or {}
    start, end = sc.start, sc.start + sc.duration
    out = {}
    for role, zone in sorted(zones.items()):
        name = zone or zones.get("server") or "UTC"
        whole = days.whole_hour(name, start, end)
        utc = whole and all(o == timedelta(0) for o in offsets(days.app_zone(name), start, end))
        out[role] = {"zone": name, "class": UTC if utc else WHOLE if whole else ODD}
    return out


def of(ops: pl.DataFrame, header: dict, sc: Scenario) -> dict:
    """The coverage of a run, from its history's operations and header: every count the registry's faults
    declare, the session zones, and (with [faults] swarm) the mix of rates this seed drew."""
    counts = {c.key: _count(ops, f.conn, c.rule, c.arg) for f in REGISTRY for c in f.counts}
    drawn = {"swarm": swarm(sc.seed, sc.faults.rates)} if sc.faults.swarm else {}
    return counts | {"zones": _zones(header, sc)} | drawn


def line(c: dict) -> str:
    """One line: which fault kinds ran and took effect, and which zone classes the sessions ran in."""
    late, requeued = c["late_commits"], c.get("requeued", {})
    kinds = [f"{late['within']} late commit(s) within the allowance", f"{late['past']} past it",
             f"{c['requeues']} requeue(s) racing a held tick"]
    if requeued.get("equal") or requeued.get("earlier"):
        kinds[-1] += f" ({requeued['equal']} with an equal enqueued_at, {requeued['earlier']} earlier)"
    kinds += [f"{c[k.key]} {k.key.replace('_', ' ')}" for k in COUNTS
              if k.key not in ("late_commits", "requeues", "requeued") and c.get(k.key)]
    classes: dict[str, list[str]] = {}
    for role, z in c["zones"].items():
        classes.setdefault(z["class"], []).append(f"{role} {z['zone']}")
    zones = "; ".join(f"{k}: {', '.join(v)}" for k, v in sorted(classes.items())) or "every session in UTC"
    mix = ""
    if "swarm" in c:  # the seed's own mix: replaying the seed draws it again
        on = [f"{BY_NAME[k].rate} {r:g}/d" for k, r in c["swarm"].items() if r]
        mix = f" · swarm — {', '.join(on) or 'nothing'}"
    return f"{', '.join(kinds)} · zones — {zones}{mix}"


def _have(c: dict, count: str) -> int:
    name, _, part = count.partition(".")
    value = c.get(name, 0)
    return value.get(part, 0) if part else value


def check(c: dict, sc: Scenario) -> dict | None:
    """What [cover] asked for against what ran; None when it asks for nothing."""
    want = sc.cover
    if not want.any():
        return None
    missing = []
    if want.odd_zones:
        missing += [f"{r} not in a non-whole-hour zone" for r in ODD_ROLES
                    if c["zones"].get(r, {}).get("class") != ODD]
    asked = [(a, want.counts[a.key]) for a in ASKS.values() if want.counts[a.key]]
    missing += [f"{_have(c, a.count)} of {n} {a.what}" for a, n in asked if _have(c, a.count) < n]
    expected = ", ".join(["tick, backfill and a writer in non-whole-hour zones"] * want.odd_zones
                         + [a.expect.format(n=n) for a, n in asked])
    return {"name": "coverage", "expected": expected, "observed": "; ".join(missing) or line(c), "ok": not missing}
