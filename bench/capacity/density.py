"""Sweep (density): a production hour's tick, at growing rows an hour. A production rate fills the current hour
with thousands of rows, and the tick recomputes each dirty bucket from its hour's rows — how many of them it reads
(its key's, its provider/model's, or the whole hour's) is the target's SQL and its indexes, not something a plan
may assume. The keys and history sweeps re-report a row or two of a sparse history; here each point starts a fresh
hour, fills it with H new rows in the spec's write shape (random agents, issues, providers/models) and measures the
tick that absorbs them: the buckets it recomputes (the keys an hour of H rows occupies) and the raw rows it reads
(PostgreSQL's exact count), which is what the plan scales to a production rate (bench/capacity/plan.py).

The largest point is held out: its tick predicted, from the keys and rows it read, by the model fitted on every
tick measured before it, then compared with its measured duration."""

from __future__ import annotations

import statistics
from datetime import timedelta

from bench.capacity import model as cost
from bench.capacity import stats
from bench.capacity.lane import Lane
from bench.capacity.sweeps import WORK, timed_write
from bench.capacity.world import TICK

HOUR = timedelta(hours=1)


def hour_point(lane: Lane, h: int) -> list[dict]:
    """A fresh hour gains h new rows, then the ticks that absorb them: [working tick, the other]. The lane first
    moves to the next hour's start (one tick absorbs the time skipped), so the hour holds these rows only."""
    into = lane.now - lane.now.replace(minute=0, second=0, microsecond=0)
    lane.tick(periods=(HOUR - into) // TICK)
    write_ms = timed_write(lane, lambda c: lane.work.insert(c, h))
    work, other = lane.absorb()
    # A production tick does both ticks' work at once: this period's keys as discovered, and the last period's
    # again where the target recomputes them as the watermark passes (hardened does; the reference's other tick
    # finds nothing). The plan scales their sum.
    work.update(write_ms=write_ms, h=h, role="work", both_keys=_keys(work) + _keys(other),
                both_reads=work["raw_rows_read"] + other["raw_rows_read"])
    other.update(h=0, role="other")
    return [work, other]


def _keys(r: dict) -> int:
    return r["upserted"] + r["deleted"]


def density_sweep(run) -> dict:
    """{label: {history_rows, points: [{h, keys_samples, read_samples, samples_ms, both_…, …}], skipped,
    validation}}: the working tick's keys and rows read, and both ticks' (what the plan scales)."""
    spec = run.spec.density
    rows = run.spec.history.rows[0]
    lanes = run.lanes(rows)
    try:
        result = {label: {"history_rows": rows, "points": [], "skipped": [], "validation": []} for label in lanes}
        run.results["density"] = result  # the points so far feed the held-out prediction
        for h in spec.rows_per_hour:
            if run._all_stopped():
                break
            here = {}
            for label, lane in lanes.items():
                predicted = _extend(result[label]["points"], h)
                if run._too_slow(predicted):
                    result[label]["skipped"].append({"h": h, "predicted_ms": predicted,
                                                     "why": f"predicted over max_tick {run.spec.max_tick:g} s"})
                elif label not in run.stopped:
                    here[label] = lane
            if not here:
                break
            held = h == spec.rows_per_hour[-1] and len(spec.rows_per_hour) > 2
            before = {label: cost.samples(run.results, label) for label in here} if held else {}
            runs = run._paired(here, lambda lane, rep, h=h: hour_point(lane, h), "density", h, 2, timed=True,
                               figures={"tick_p95": WORK})
            for label, reps in runs.items():
                d = [r[0]["d_ms"] for r in reps]
                sp = stats.spread(d)
                point = {"h": h, "median_ms": sp["median"], "min_ms": sp["min"], "max_ms": sp["max"], "reps": len(d),
                         "samples_ms": d, "keys_samples": [_keys(r[0]) for r in reps],
                         "read_samples": [r[0]["raw_rows_read"] for r in reps], "p99_ms": cost.quantile(d, 99),
                         "both_keys_samples": [r[0]["both_keys"] for r in reps],
                         "both_read_samples": [r[0]["both_reads"] for r in reps]}
                result[label]["points"].append(point)
                if (predicted := _predict(before.get(label), point)) is not None:
                    result[label]["validation"].append(
                        {"h": h, "keys": statistics.median(point["keys_samples"]),
                         "reads": statistics.median(point["read_samples"]), "predicted_ms": predicted,
                         "measured_ms": sp["median"], "ratio": sp["median"] / predicted})
        return result
    finally:
        for lane in lanes.values():
            lane.close()


def _extend(points: list[dict], h: int) -> float | None:
    """A point's tick guessed before it is run (to skip one past max_tick): the last point's, in proportion to the
    rows, or to their square where its buckets read more than twice the hour's rows between them (each read rows
    of others: every bucket's reads grow with the whole hour)."""
    if not points:
        return None
    p = points[-1]
    wide = statistics.median(p["read_samples"]) - p["h"] > 2 * p["h"]
    return p["median_ms"] * (h / p["h"]) ** (2 if wide else 1)


def _predict(before: list | None, point: dict) -> float | None:
    """The point's median tick by the model fitted on the ticks measured before it, at the keys and rows its ticks
    recomputed and read (counts, not durations): what the per-row term says a decade past its data."""
    if not before or len(before) < 3 or len({s[0] for s in before}) < 2:
        return None
    m = cost.fit(before)
    return m.at(statistics.median(point["keys_samples"]), statistics.median(point["read_samples"])) or None
