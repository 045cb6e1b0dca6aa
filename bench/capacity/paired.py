"""Paired ratios: a target's figure against its baseline's, repetition by repetition of one run (the two measured
back to back, in rotated order), so whatever the machine does to one it mostly does to the other.

A ratio's interval is Student's t on the logarithms of the paired ratios (ratios multiply; a 2× and a 0.5×
cancel). Pure functions on recorded figures: the sequential decision is tested without a database or a clock.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from bench.capacity.stats import t95

MIN_PAIRS = 3  # fewer pairs give no interval worth stopping on (t with 1 degree of freedom is 12.7)


@dataclass(frozen=True)
class Ratio:
    ratio: float  # geometric mean of the paired ratios
    low: float  # its 95 % interval
    high: float
    n: int
    diff_ms: float  # median paired difference, target − baseline

    def as_dict(self) -> dict:
        return {"ratio": self.ratio, "low": self.low, "high": self.high, "n": self.n, "diff_ms": self.diff_ms}


def ratio(pairs: Sequence[tuple[float, float]]) -> Ratio | None:
    """(target, baseline) figures of the same repetitions → their ratio with its interval; None when a pair has
    no positive side to divide by (a figure not measured)."""
    good = [(t, b) for t, b in pairs if t > 0 and b > 0 and math.isfinite(t) and math.isfinite(b)]
    if not good:
        return None
    logs = [math.log(t / b) for t, b in good]
    n, mean = len(logs), statistics.fmean(logs)
    half = t95(n - 1) * statistics.stdev(logs) / math.sqrt(n) if n > 1 else math.inf
    diff = statistics.median(t - b for t, b in good)
    return Ratio(math.exp(mean), math.exp(mean - half), math.exp(mean + half) if half < math.inf else math.inf,
                 n, diff)


def over_with_confidence(r: Ratio | None, limit: float, floor_ms: float) -> bool:
    """Sequential stop: after at least MIN_PAIRS pairs, the ratio's lower bound is past the budget and the
    difference past the noise floor. Nothing more measured at this point could bring it back within budget with
    any confidence, so the configuration's sweep stops here and the run can fail now."""
    return r is not None and r.n >= MIN_PAIRS and r.low > limit and r.diff_ms > floor_ms


def over_budget(r: Ratio | None, limit: float, floor_ms: float) -> bool:
    """The verdict at the end of a point: the ratio's estimate past the budget, the target slower beyond doubt
    (its interval above 1) and by more than the floor. A busy machine widens the interval and so errs towards
    passing; only a difference the pairs agree on fails."""
    return r is not None and r.ratio > limit and r.low > 1.0 and r.diff_ms > floor_ms


def undecided(r: Ratio | None, limit: float, floor_ms: float) -> bool:
    """Past the budget by its estimate, and by more than the floor, but its interval still reaches back within
    the budget: a point to measure again (up to its cap of repetitions) before judging it."""
    return r is not None and r.n >= MIN_PAIRS and r.ratio > limit and r.low <= limit and r.diff_ms > floor_ms
