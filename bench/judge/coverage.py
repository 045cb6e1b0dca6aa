"""What a generated run covered — the production faults that ran and took effect, and the classes of the zones
its sessions ran in — read from the history alone, and held to what its `[cover]` asked for.

- a late commit: a transaction the nemesis held open (`begin` … `commit`) that wrote something, committed, and
  was open across a tick; within the watermark's 5-minute allowance or past it, by how long it was open;
- a requeue: a tick on the requeue connection seen waiting at its waitpoint, while a write the dirty-queue
  triggers see applied, before the tick was awaited;
- the zone classes: each application role's session zone (the history's header), whole-hour or not over the run
  by the checker's own calendar (`bench/judge/days.py`).
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from bench.judge import days
from bench.judge.attribution import QUEUED
from bench.workload.faults import ALLOWANCE, RACE_CONN, REQUEUE_CONN, RETENTION
from bench.workload.scenario import ODD_ROLES, Scenario
from bench.workload.zones import offsets

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


def _held(ops: pl.DataFrame, conn: str, writes: bool) -> int:
    """Ticks on `conn` seen waiting at a waitpoint (and, with `writes`, raced by an applied queued write before
    they were awaited)."""
    on = ops.filter(pl.col("conn").eq_missing(conn) & pl.col("f").is_in(("wait_blocked", "await")))
    queued = ops.filter(pl.col("f").is_in(QUEUED) & (pl.col("outcome") == "ok")).get_column("i")
    held, blocked = 0, None
    for i, f, outcome in on.select("i", "f", "outcome").iter_rows():
        if f == "wait_blocked":
            blocked = i if outcome == "ok" else None
        elif blocked is not None:
            held += not writes or bool(((queued > blocked) & (queued < i)).any())
            blocked = None
    return held


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
    """The coverage of a run, from its history's operations and header."""
    ok = pl.col("outcome") == "ok"
    pauses = ops.filter((pl.col("f") == "pause") & ok).select(length=pl.col("until") - pl.col("at"))
    return {
        "late_commits": _late(ops),
        "requeues": _held(ops, REQUEUE_CONN, writes=True),
        "races": _held(ops, RACE_CONN, writes=False),
        "cancels": ops.filter((pl.col("f") == "cancel") & ok).height,
        "timeouts": ops.filter((pl.col("f") == "tick") & pl.col("timeout_ms").is_not_null()).height,
        "restarts": ops.filter((pl.col("f") == "restart") & ok).height,
        "backfills": ops.filter((pl.col("f") == "backfill") & ok).height,
        "pauses": pauses.filter(pl.col("length") < RETENTION).height,
        "long_pauses": pauses.filter(pl.col("length") >= RETENTION).height,
        "zones": _zones(header, sc),
    }


def line(c: dict) -> str:
    """One line: which fault kinds ran and took effect, and which zone classes the sessions ran in."""
    late = c["late_commits"]
    kinds = [f"{late['within']} late commit(s) within the allowance", f"{late['past']} past it",
             f"{c['requeues']} requeue(s) racing a held tick"]
    kinds += [f"{c[k]} {k.replace('_', ' ')}" for k in ("races", "cancels", "timeouts", "restarts", "backfills",
                                                         "pauses", "long_pauses") if c[k]]
    classes: dict[str, list[str]] = {}
    for role, z in c["zones"].items():
        classes.setdefault(z["class"], []).append(f"{role} {z['zone']}")
    zones = "; ".join(f"{k}: {', '.join(v)}" for k, v in sorted(classes.items())) or "every session in UTC"
    return f"{', '.join(kinds)} · zones — {zones}"


def check(c: dict, sc: Scenario) -> dict | None:
    """What [cover] asked for against what ran; None when it asks for nothing."""
    want = sc.cover
    if not want.any():
        return None
    late = c["late_commits"]
    missing = []
    if want.odd_zones:
        missing += [f"{r} not in a non-whole-hour zone" for r in ODD_ROLES
                    if c["zones"].get(r, {}).get("class") != ODD]
    for have, need, what in ((late["within"], want.late_commits, "late commit(s) within the allowance"),
                             (late["past"], want.late_commits_past, "late commit(s) past the allowance"),
                             (c["requeues"], want.requeues, "requeue(s) racing a held tick"),
                             (c["long_pauses"], want.long_pauses, "long pause(s)")):
        if have < need:
            missing.append(f"{have} of {need} {what}")
    expected = ", ".join(filter(None, [
        "tick, backfill and a writer in non-whole-hour zones" if want.odd_zones else "",
        f"≥ {want.late_commits} late commit(s) within the allowance" if want.late_commits else "",
        f"≥ {want.late_commits_past} past it" if want.late_commits_past else "",
        f"≥ {want.requeues} requeue(s)" if want.requeues else "",
        f"≥ {want.long_pauses} long pause(s)" if want.long_pauses else ""]))
    return {"name": "coverage", "expected": expected, "observed": "; ".join(missing) or line(c), "ok": not missing}
