"""How a capacity run repeats a point and stops: every configuration measured in rotated order, repetition by
repetition, more often while a timed point is short or a budget undecided; a target stops early when its paired
ratio is past its budget with confidence (sequential testing), or a tick passes its cap, a multiple of the
baseline's slowest tick in the run (cancelled by statement_timeout). Either way the target is measured no further,
and once every target has stopped the run skips what is left: a clear regression fails in about the time the
baseline takes. Mixed into CapacityRun (bench/capacity/run.py)."""

from __future__ import annotations

from collections.abc import Callable

from bench.capacity import paired
from bench.capacity.lane import Lane
from bench.capacity.probe import TickCapped

TICK_CAP = 20  # a target's tick is cancelled past this many times its baseline's slowest tick in the run
MORE_REPETITIONS = 5  # a cheap point's repetitions go up to this many times the spec's


def rotate(items: list, n: int) -> list:
    n %= max(len(items), 1)
    return items[n:] + items[:n]


class Stops:
    """Needs the run's spec, baseline, configs, stopped, slowest, meter, progress and _keep."""

    def _paired(self, lanes: dict[str, Lane], fn: Callable[[Lane, int], list[dict]], sweep: str, point,
                units: float, timed: bool = False,
                figures: dict[str, Callable[[list[dict]], float]] | None = None) -> dict[str, list[list[dict]]]:
        """fn on every lane, `repetitions` times, the configurations' order rotated each time. Up to
        MORE_REPETITIONS times as often: a `timed` point of ticks until every configuration's ticks (their
        records' d_ms) add up to the spec's point_time, and any point while a budget is undecided (_undecided).
        `figures` (budget key → a repetition's records → ms):
        what the budgets compare; after each repetition a configuration whose paired ratio to the baseline is
        past its budget with confidence stops (sequential testing), here and for the rest of the run, as does
        one whose tick passes its cap (below)."""
        configs = [c for c in self.configs if c.label in lanes and c.label not in self.stopped]
        if self._all_stopped():  # every target failed already: the baseline alone would decide nothing
            configs = []
        out: dict[str, list[list[dict]]] = {c.label: [] for c in configs}
        self.in_point, self.point_slowest = True, {}
        try:
            self._repeat(lanes, fn, (sweep, point, units, timed), figures or {}, configs, out)
        finally:
            self.in_point = False
        return {label: reps for label, reps in out.items() if reps}

    def _repeat(self, lanes, fn, at: tuple, figures, configs, out) -> None:
        sweep, point, units, timed = at  # where the repetitions are: the sweep, its point, progress units, timed?
        spent = dict.fromkeys(out, 0.0)
        R = self.spec.repetitions
        rep = 0
        while configs and (rep < R or (rep < R * MORE_REPETITIONS and (
                (timed and min(spent[c.label] for c in configs) < self.spec.point_time * 1000)
                or self._undecided(configs, out, figures)))):
            self.meter.sample(sweep)
            for c in rotate(configs, rep):
                self.progress(f"{sweep} {point} · {c.label} · rep {rep + 1}", 0)
                probe = getattr(lanes[c.label], "probe", None)
                if probe is not None:  # a lane (a rate run's factory caps the lanes it makes): this point's cap
                    probe.cap_ms = self.cap_ms(c)
                try:
                    records = fn(lanes[c.label], rep)
                except TickCapped as exc:  # past its cap: stopped, as a budget failed with confidence
                    self._capped(c, sweep, point, exc)
                    continue
                out[c.label].append(records)
                spent[c.label] += sum(r.get("d_ms") or 0.0 for r in records)
                self._keep(sweep, c.label, point, rep, records)
                self.progress("", units if rep < R else 0)  # the plan counts `repetitions`; more are cheap ones
            rep += 1
            configs = [c for c in configs if c.label not in self.stopped]
            for key, figure in figures.items():
                configs = [c for c in configs if not self._stop(c, out, figure, key, sweep, point)]

    def cap_ms(self, c) -> float | None:
        """A target's tick cap: TICK_CAP × its baseline's slowest tick on the same server (at least 100 ms) — at
        the point being measured once the baseline has ticked there (a larger point costs more for both), else
        so far in the run (its preload's settling ticks included: what a preload or a lane's warm-up is held
        to). None for the baseline, without a budget, or at a point the baseline has not reached yet."""
        if not self.spec.budget or c.target == self.baseline or self.cost is not None:  # injected: no timing
            return None
        seen = self.point_slowest.get(c.pg) if self.in_point else self.slowest.get(c.pg)
        return TICK_CAP * max(seen, 100.0) if seen else None

    def _capped(self, c, sweep: str, point, exc: TickCapped) -> None:
        self.stopped[c.label] = {"sweep": sweep, "point": str(point), "budget": "tick_p95", "limit": TICK_CAP,
                                 "cap_ms": exc.cap_ms,
                                 "why": f"a tick ran past {exc.cap_ms:,.0f} ms, {TICK_CAP}× the slowest tick of "
                                        "the baseline in this run, and was cancelled"}
        self.progress(f"{c.label} stopped: {sweep} {point}: {self.stopped[c.label]['why']}", 0)

    def _all_stopped(self) -> bool:
        if not self.stopped:
            return False
        others = [c for c in self.configs if c.target != self.baseline]
        return bool(others) and all(c.label in self.stopped for c in others)

    def _pair(self, c, out: dict, figure, key: str):
        """(budget, baseline config, paired ratio) of configuration c at this point so far, or None."""
        budget = self.spec.budget
        limit = budget and getattr(budget, key)
        base = next((b for b in self.configs if b.target == self.baseline and b.pg == c.pg), None)
        if not limit or base is None or base is c or base.label not in out:
            return None
        r = paired.ratio([(figure(m), figure(b)) for m, b in zip(out[c.label], out[base.label])])
        return (limit, base, r) if r is not None else None

    def _undecided(self, configs, out: dict, figures: dict) -> bool:
        """Whether some configuration's paired ratio at this point is past its budget but not beyond doubt: then
        more pairs decide it (sequential, both ways), so a busy spell that slowed a few repetitions of one side
        is outvoted and a real regression confirmed, rather than either judged on three pairs."""
        for c in configs:
            for key, figure in figures.items():
                got = self._pair(c, out, figure, key)
                if got and paired.undecided(got[2], got[0], self.spec.budget.floor_ms):
                    return True
        return False

    def _stop(self, c, out: dict, figure, key: str, sweep: str, point) -> bool:
        """Whether configuration c's paired ratio at this point is already past its budget with confidence."""
        got = self._pair(c, out, figure, key)
        if got is None:
            return False
        limit, base, r = got
        if not self.spec.budget.stop_early or not paired.over_with_confidence(r, limit, self.spec.budget.floor_ms):
            return False
        self.stopped[c.label] = {"sweep": sweep, "point": str(point), "limit": limit, "budget": key,
                                 "baseline": base.label, **r.as_dict()}
        self.progress(f"{c.label} stopped: {sweep} {point} at {r.ratio:.2f}× its baseline "
                      f"(95 % interval {r.low:.2f}–{r.high:.2f}, budget {limit:g}×)", 0)
        return True
