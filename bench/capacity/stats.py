"""The arithmetic of capacity figures: spreads, a least-squares cost model, a slope's confidence interval,
limits by bisection and by extrapolation. Pure functions, unit-tested without a database."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# Two-sided 95 % quantiles of Student's t by degrees of freedom (1..30); beyond, the normal's 1.96 is close.
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
        2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
        2.045, 2.042)  # fmt: skip


def t95(df: int) -> float:
    if df < 1:
        raise ValueError("a confidence interval needs at least one degree of freedom")
    return _T95[df - 1] if df <= len(_T95) else 1.96


def p95(values: Sequence[float]) -> float:
    """Nearest rank: an observed value, the largest of up to 20."""
    return sorted(values)[max(0, math.ceil(0.95 * len(values)) - 1)]


def spread(values: Sequence[float]) -> dict:
    """Median with its range and p95: what a point reports (never a mean that one outlier can drag)."""
    if not values:
        raise ValueError("no values to summarise")
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "p95": p95(values),
            "n": len(values)}


@dataclass(frozen=True)
class Line:
    a: float  # intercept
    b: float  # slope
    r2: float
    slope_ci: tuple[float, float]

    def at(self, x: float) -> float:
        return self.a + self.b * x

    def solve(self, y: float) -> float | None:
        """The x where the line reaches y; None when it never does going right (flat or falling)."""
        return (y - self.a) / self.b if self.b > 0 and y > self.a else None


def fit(xs: Sequence[float], ys: Sequence[float]) -> Line:
    """Ordinary least squares y = a + b·x, with R² and the 95 % interval of b."""
    n = len(xs)
    if n != len(ys) or n < 2:
        raise ValueError(f"a line needs at least 2 points, got {n}")
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        raise ValueError("a line needs at least two distinct x values")
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    a = my - b * mx
    ss_res = sum((y - a - b * x) ** 2 for x, y in zip(xs, ys))
    ss_tot = sum((y - my) ** 2 for y in ys)
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0
    if n > 2:
        half = t95(n - 2) * math.sqrt(ss_res / (n - 2) / sxx)
        ci = (b - half, b + half)
    else:
        ci = (-math.inf, math.inf)  # two points fit exactly and say nothing about the slope's uncertainty
    return Line(a, b, r2, ci)


def slope_ci(values: Sequence[float]) -> tuple[float, float, float]:
    """Slope per step of a series (e.g. queue depth per tick) and its 95 % interval."""
    line = fit(list(range(len(values))), list(values))
    return line.b, *line.slope_ci


def bisect_limit(ok: Callable[[float], bool], lo: float, hi: float, rel: float = 0.10,
                 max_steps: int = 20) -> tuple[float, float, int]:
    """The boundary of `ok` between lo (ok) and hi (not ok), narrowed until hi/lo ≤ 1 + rel. Steps are
    geometric, since write rates span decades. Returns (last ok, first not ok, probes made)."""
    if lo <= 0 or hi <= lo:
        raise ValueError(f"need 0 < lo < hi, got lo={lo}, hi={hi}")
    probes = 0
    while hi / lo > 1 + rel and probes < max_steps:
        mid = math.sqrt(lo * hi)
        probes += 1
        if ok(mid):
            lo = mid
        else:
            hi = mid
    return lo, hi, probes


def log_points(lo: int, hi: int, per_decade: int = 2) -> list[int]:
    """Integers from lo to hi, log-spaced, ends included, no duplicates."""
    if lo < 1 or hi < lo:
        raise ValueError(f"need 1 <= lo <= hi, got {lo}, {hi}")
    steps = max(1, round(math.log10(hi / lo) * per_decade))
    points = sorted({round(lo * (hi / lo) ** (i / steps)) for i in range(steps + 1)})
    return points


def crossover(points: Sequence[tuple[float, float]]) -> float | None:
    """The x where y = speedup crosses 1, interpolated in log x between the two points that straddle it."""
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if (y0 - 1) * (y1 - 1) <= 0 and y0 != y1:
            lx0, lx1 = math.log(x0), math.log(x1)
            return math.exp(lx0 + (1 - y0) * (lx1 - lx0) / (y1 - y0))
    return None
