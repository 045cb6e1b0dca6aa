"""What each sweep measures on one lane. The orchestration (configurations, rotation, repetitions) is in
bench/capacity/run.py; these functions measure one point once and return per-tick records."""

from __future__ import annotations

import math
import statistics
import threading
import time

import psycopg

from bench.capacity.lane import Lane
from bench.capacity.stats import p95, slope_ci
from bench.capacity.world import TICK, bulk_fill
from rollup.pipeline import TICK_LOCK_KEY

NORMAL_LAG = 2 * TICK.total_seconds()  # the watermark trails by at most 2T in simulated seconds when keeping up


def keys_point(lane: Lane, k: int, rep: int, explain: bool = False) -> list[dict]:
    """Dirty k keys (one re-report each), then the ticks that absorb them: [working tick, the other]. The
    writes' own duration is kept on the working tick (`write_ms`): a trigger's cost grows there."""
    write_ms = timed_write(lane, lambda c: lane.work.rereport_keys(c, k, offset=rep * k))
    work, other = lane.absorb(explain)
    work["write_ms"] = write_ms
    work["k"], other["k"] = k, 0
    work["role"], other["role"] = "work", "other"
    return [work, other]


def timed_write(lane: Lane, fn, periods_ago: int = 0) -> float:
    """lane.write, timed in ms; 0 when the lane's tick durations are injected (tests judge no measured time)."""
    t0 = time.perf_counter()
    lane.write(fn, periods_ago=periods_ago)
    return 0.0 if lane.probe.cost is not None else (time.perf_counter() - t0) * 1000


# What a budget compares of one repetition's records (bench/capacity/run.py pairs them).


def WORK(records: list[dict]) -> float:  # noqa: N802 — a repetition's figure: its working tick
    return records[0]["d_ms"]


def WRITE(records: list[dict]) -> float:  # noqa: N802 — the writes before its working tick
    return records[0].get("write_ms") or 0.0


def CHANGE(records: list[dict], key: str = "d_ms") -> float:  # noqa: N802
    return next(r[key] for r in records if r.get("role") == "work")


def IDLE(records: list[dict], key: str = "d_ms") -> float:  # noqa: N802
    return statistics.median(r[key] for r in records if r.get("role") == "idle")


IDLE_TICKS = 5  # an idle tick takes milliseconds: one a repetition would leave its median to 3 hiccup-prone samples


def idle_point(lane: Lane) -> list[dict]:
    """IDLE_TICKS ticks with nothing written since the tick before them absorbed everything."""
    lane.tick()
    records = [lane.tick() for _ in range(IDLE_TICKS)]
    for r in records:
        r["role"] = "idle"
    return records


def full_rebuild_ms(lane: Lane) -> float:
    """The rollup rebuilt from its defining query over all history (TRUNCATE, then a bulk fill: indexes built
    after the rows), timed up to its commit point and rolled back, so the lane's state is left as it was. The
    bench's own SQL: the target offers no full refresh."""
    conn = lane.conn
    with lane.db.clock.transaction(conn, lane.now):
        t0 = time.perf_counter()
        conn.execute("TRUNCATE task_usage_hourly")
        bulk_fill(conn)
        elapsed = time.perf_counter() - t0
        raise psycopg.Rollback()  # leaves the lane as it was; the transaction() block swallows it
    return elapsed * 1000


OVERRUNS = 3  # ticks slower than T after which a rate is judged beyond the hard limit without going on
GIVE_UP_RHO = 4.0  # one tick this slow is enough: the backlog only spirals from there


def steady(lane: Lane, writes: int, ticks: int, warmup: int, period_s: float) -> list[dict]:
    """Compressed mode: each period's writes, then the tick alone. A tick slower than the period T delays the
    next one by the periods it overran (missed plans are skipped, as the scheduler does), and those periods'
    writes pile up meanwhile. A rate whose ticks overrun T `OVERRUNS` times, or once by `GIVE_UP_RHO`, already
    fails "max D ≤ T": the run stops there (`stopped` on the last record) rather than time a spiral."""
    records, periods, overruns = [], 1, 0
    for n in range(warmup + ticks):
        write_ms = 0.0
        for back in range(periods):  # the writes of every period since the last tick, each dated in its period
            write_ms += timed_write(lane, lambda c: lane.work.batch(c, writes), periods_ago=periods - 1 - back)
        record = lane.tick(periods=periods)
        record["write_ms"] = write_ms / periods  # one period's writes
        rho = record["d_ms"] / 1000 / period_s
        record.update(tick=n, warmup=n < warmup, writes_per_tick=writes, rho=rho, stopped=False,
                      lag_s=record["watermark_lag_s"] + rho * TICK.total_seconds())
        records.append(record)
        periods = max(1, math.ceil(rho))
        overruns += rho > 1
        if overruns >= OVERRUNS or rho > GIVE_UP_RHO:
            record["stopped"] = n < warmup + ticks - 1
            break
    return records


def judge(records: list[dict], period_s: float) -> dict:
    """The sustainability criteria over the steady ticks: max D ≤ T, the queue-depth slope's 95 % interval
    includes 0, max watermark lag ≤ 2T. A run stopped early (see `steady`) is not sustainable; its figures come
    from every tick it ran, warm-up included when it stopped there."""
    stopped = records[-1].get("stopped", False)
    steady_ = [r for r in records if not r["warmup"]] or records
    if len(steady_) >= 3:
        slope, lo, hi = slope_ci([r["queue_after"] for r in steady_])
    else:
        slope, lo, hi = float("nan"), float("nan"), float("nan")
    rhos = sorted(r["rho"] for r in steady_)
    max_lag = max(r["lag_s"] for r in steady_)
    ok = not stopped and rhos[-1] <= 1.0 and lo <= 0 <= hi and max_lag <= NORMAL_LAG
    return {"rho_max": rhos[-1], "rho_median": rhos[len(rhos) // 2], "queue_slope": slope, "slope_ci": [lo, hi],
            "max_lag_s": max_lag, "sustainable": ok, "stopped_after": len(records) if stopped else None,
            "p95_ms": p95([r["d_ms"] for r in steady_]),
            "write_ms": sorted(r.get("write_ms") or 0.0 for r in steady_)[len(steady_) // 2]}


# ---------------------------------------------------------------- faults


def fault_run(lane: Lane, fault: str, writes: int, before: int, duration_ticks: int, period_s: float,
              max_recovery: int = 200) -> dict:
    """Queue depth and lag over ticks: `before` normal ticks, the fault for `duration_ticks` periods, then
    ticks until the watermark trails by no more than 2T again (the recovery)."""
    series: list[dict] = []
    t0 = lane.now

    def record(r: dict | None, phase: str) -> None:
        r = r or {"d_ms": 0.0, "queue_after": lane.probe.queue_depth(), "watermark_lag_s": _lag(lane)}
        series.append({"tick": len(series), "sim_minutes": (lane.now - t0).total_seconds() / 60,
                       "queue": r["queue_after"], "lag_s": r["watermark_lag_s"], "d_ms": r["d_ms"], "phase": phase})

    def period(phase: str, tick: bool = True) -> dict | None:
        lane.write(lambda c: lane.work.batch(c, writes))
        if not tick:
            lane.now += TICK
            lane.db.clock.set(lane.now)
            return None
        return lane.tick()

    for _ in range(before):
        record(period("before"), "before")
    start = len(series)
    if fault == "pause":  # the scheduler stopped: no tick at all; writes go on
        hour = 12
        for n in range(0, duration_ticks, hour):  # a point an hour keeps the series readable
            for _ in range(min(hour, duration_ticks - n)):
                period("fault", tick=False)
            record(None, "fault")
    elif fault == "leak":  # another session holds lock 4246, as a leaked tick's pooled connection does (L1)
        with lane.db.connect() as holder:
            holder.execute("SELECT pg_advisory_lock(%s)", (TICK_LOCK_KEY,))
            for _ in range(duration_ticks):
                record(period("fault"), "fault")
    elif fault == "slow":  # one tick held on the state row for duration_ticks periods while writes go on
        record(_slow_tick(lane, writes, duration_ticks), "fault")
    else:
        raise ValueError(f"unknown fault {fault!r}")
    end = len(series)
    recovery, wall = None, 0.0
    for n in range(max_recovery):
        r = period("recovery")
        record(r, "recovery")
        wall += r["d_ms"] / 1000
        if r["watermark_lag_s"] <= NORMAL_LAG:
            recovery = n + 1
            break
    return {"series": series, "fault_ticks": [start, end - 1], "recovery_ticks": recovery,
            "recovery_wall_s": wall if recovery else None}


def _lag(lane: Lane) -> float:
    wm = lane.probe.conn.execute("SELECT watermark_at FROM task_usage_hourly_rollup_state").fetchone()[0]
    return (lane.now - wm).total_seconds()


def _slow_tick(lane: Lane, writes: int, periods: int) -> dict:
    """A tick that takes `periods` periods: the state row is locked by another session before it starts
    (the tick must update it), writes go on meanwhile, then the lock is released and the tick finishes."""
    result: dict = {}
    with lane.db.connect(autocommit=False) as holder:
        holder.execute("SELECT 1 FROM task_usage_hourly_rollup_state FOR UPDATE")
        lane.now += TICK
        lane.db.clock.set(lane.now)
        at = lane.now
        pid = lane.probe.conn.info.backend_pid
        thread = threading.Thread(target=lambda: result.update(lane.probe.tick(at)))
        thread.start()
        with lane.db.connect() as watcher:
            blocked = _wait_blocked(watcher, pid)
        if not blocked:
            holder.rollback()
            thread.join()
            raise RuntimeError("slow fault: the tick never waited on the state row's lock")
        for _ in range(periods - 1):
            lane.now += TICK
            lane.db.clock.set(lane.now)
            with lane.db.clock.transaction(lane.conn, lane.now + TICK / 300):
                lane.work.batch(lane.conn, writes)
        holder.rollback()
        thread.join()
    return result


def _wait_blocked(conn, pid: int, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = conn.execute("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s",
                               (pid,)).fetchone()
        if waiting and waiting[0]:
            return True
        time.sleep(0.01)
    return False
