"""The tick's cost model: D = fixed + per_key · dirty keys + per_read · raw rows read, every term ≥ 0 (a tick cannot
cost less than nothing, nor get cheaper with more work), fitted by non-negative least squares on every measured
tick of the sweeps, each weighted by the inverse of its duration (relative error: a plan is judged by measured ÷
predicted). Rows read are PostgreSQL's exact count for the tick (the window's rows and every row it reads to
recompute a bucket): they carry the history's density, which is what a dirty key's cost grows with. The sweeps
vary the history's rows over a fixed span of days, so a cost growing with the history's length alone (a scan)
shows as density too; the plan says which it assumes. With its R², residuals, a seeded bootstrap interval for
each prediction, and the spread of measured ÷ predicted (from an HDR histogram) that turns a predicted median into
a p99.

scipy is not a dependency: the Lawson–Hanson active-set NNLS below is small enough to own."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from hdrh.histogram import HdrHistogram

TERMS = ("fixed", "per_key", "per_read")  # ms; ms per dirty key; ms per raw row read
BOOT = 200  # bootstrap refits for a prediction's interval
FLOOR_MS = 0.1  # a tick's weight is 1 / its duration, no shorter than this


def nnls(a: np.ndarray, b: np.ndarray, tol: float = 1e-12) -> np.ndarray:
    """argmin ‖a·x − b‖ subject to x ≥ 0 (Lawson and Hanson's active set)."""
    n = a.shape[1]
    x, free = np.zeros(n), np.zeros(n, bool)
    for _ in range(3 * n + 3):
        w = a.T @ (b - a @ x)
        if free.all() or np.max(np.where(free, -np.inf, w)) <= tol:
            break
        free[int(np.argmax(np.where(free, -np.inf, w)))] = True
        while True:
            z = np.zeros(n)
            z[free] = np.linalg.lstsq(a[:, free], b, rcond=None)[0]
            if np.all(z[free] > tol):
                break
            bad = free & (z <= tol)
            step = np.min(x[bad] / (x[bad] - z[bad]))
            x = x + step * (z - x)
            free &= x > tol
            x[~free] = 0.0
        x = z
    return x


def quantile(values: Sequence[float], q: float, scale: float = 1000.0) -> float:
    """The q-th percentile (0–100) of positive values, from an HDR histogram at 3 significant digits."""
    h = HdrHistogram(1, 10**12, 3)
    for v in values:
        h.record_value(max(1, round(v * scale)))
    return h.get_value_at_percentile(q) / scale


@dataclass(frozen=True)
class Model:
    terms: tuple[str, ...]  # the terms fitted (per_read only when the rows read vary)
    coef: tuple[float, ...]
    r2: float
    n: int
    residual_ms: dict  # median and largest |measured − predicted|
    spread: dict  # measured ÷ predicted: p50 and p99 (HDR histogram)
    boots: tuple[tuple[float, ...], ...]  # bootstrap coefficients, for intervals
    span: dict  # the largest dirty keys and rows read measured: beyond, a prediction is extrapolated

    def at(self, keys: float, reads: float, coef: Sequence[float] | None = None) -> float:
        x = {"fixed": 1.0, "per_key": keys, "per_read": reads}
        return float(sum(c * x[t] for t, c in zip(self.terms, coef or self.coef)))

    def interval(self, keys: float, reads: float) -> tuple[float, float]:
        """95 % bootstrap interval of the predicted median tick."""
        preds = sorted(self.at(keys, reads, c) for c in self.boots)
        return preds[int(0.025 * (len(preds) - 1))], preds[int(math.ceil(0.975 * (len(preds) - 1)))]

    def term(self, name: str) -> float:
        return dict(zip(self.terms, self.coef)).get(name, 0.0)

    def as_dict(self) -> dict:
        return {"terms": dict(zip(self.terms, self.coef)), "r2": self.r2, "n": self.n,
                "residual_ms": self.residual_ms, "spread": self.spread, "span": self.span}


def fit(samples: Sequence[tuple[float, float, float]], seed: int = 1) -> Model:
    """samples: (dirty keys, raw rows read, measured ms) of every measured tick."""
    if len(samples) < 3:
        raise ValueError(f"a cost model needs at least 3 measured ticks, got {len(samples)}")
    data = np.array(samples, float)
    terms = ("fixed", "per_key") + (("per_read",) if len(set(data[:, 1])) > 1 else ())
    cols = {"fixed": np.ones(len(data)), "per_key": data[:, 0], "per_read": data[:, 1]}
    a, y = np.column_stack([cols[t] for t in terms]), data[:, 2]
    # Relative error, not absolute: the ticks span four decades, and a plan is judged by measured ÷ predicted.
    # Unweighted, the largest ticks set every term and a 2-ms tick's fixed cost is fitted as 0, which turns the
    # p99 ratio of the small ticks into hundreds.
    weight = 1.0 / np.maximum(y, FLOOR_MS)
    aw = a * weight[:, None]
    scale = np.maximum(np.abs(aw).max(axis=0), 1e-12)  # columns of like size: keys and rows span decades

    def solve(rows: np.ndarray) -> tuple[float, ...]:
        return tuple(float(v) for v in nnls(aw[rows] / scale, y[rows] * weight[rows]) / scale)

    coef = solve(np.arange(len(y)))
    pred = a @ np.array(coef)
    res = y - pred
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(np.sum(res**2)) / ss_tot if ss_tot > 0 else 1.0
    rng = np.random.default_rng(seed)
    boots = tuple(solve(rng.integers(0, len(y), len(y))) for _ in range(BOOT))
    ratios = [m / p for m, p in zip(y, pred) if p > 0 and m > 0]
    return Model(terms, coef, r2, len(y), {"median": float(np.median(np.abs(res))), "max": float(np.abs(res).max())},
                 {"p50": quantile(ratios, 50), "p99": quantile(ratios, 99)} if ratios else {"p50": 1.0, "p99": 1.0},
                 boots, {"keys": float(data[:, 0].max()), "reads": float(data[:, 1].max())})


def samples(results: dict, label: str) -> list[tuple[float, float, float]]:
    """Every measured tick of a configuration's keys, history, density and crossover sweeps as (keys, rows read,
    ms)."""
    out = []

    def add(keys, reads, times):
        out.extend((keys, r, ms) for r, ms in zip(reads or [0.0] * len(times or []), times or []))

    for p in (results.get("keys", {}).get(label) or {}).get("points", []):
        add(p["k"], p.get("read_samples"), p.get("samples_ms"))
    for h in results.get("history", {}).get(label) or []:
        add(h["change_keys"], h.get("change_reads"), h.get("change_samples_ms"))
        add(0, h.get("idle_reads"), h.get("idle_samples_ms"))
    for p in (results.get("density", {}).get(label) or {}).get("points", []):
        out.extend(zip(p["keys_samples"], p["read_samples"], p["samples_ms"]))
    for c in (results.get("crossover", {}).get(label) or {}).values():
        for p in c["points"]:
            add(p["keys"], p.get("read_samples"), p.get("samples_ms"))
    return out


def predict_next(points: Sequence[dict], k: int) -> float | None:
    """A keys point's median tick, by the model fitted on the points given, measured before it (its rows read a
    key as at the last of them): what the report holds out and checks once measured."""
    if len(points) < 2:
        return None
    m = fit([(p["k"], r, ms) for p in points for r, ms in zip(p["read_samples"], p["samples_ms"])])
    reads = statistics.median(points[-1]["read_samples"]) / points[-1]["k"] * k
    return m.at(k, reads) if m.at(k, reads) > 0 else None
