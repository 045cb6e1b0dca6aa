"""Capacity specs (`scenarios/capacity/*.toml`): the history to preload, the sweeps to run, the budgets to hold.

Validated like scenarios (every problem is file:line: key: message); the history's shape reuses the scenario
sections `[tenants]` and `[rates]` (counts, providers, models, tokens, chat share).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, fields
from datetime import timedelta
from pathlib import Path

from bench.capacity.writers import WriterSweep
from bench.workload.scenario import Rates, ScenarioError, Tenants, read_rates, read_tenants
from bench.workload.schema import Context, Locator, Table

MODES = ("compressed", "live")
MIX = ("insert", "rereport", "delete", "reassign")
FAULTS = ("pause", "leak", "slow")


@dataclass(frozen=True)
class HistorySize:
    rows: tuple[int, ...] = (100_000,)  # raw usage rows; more than one size is the history sweep (b)
    days: int = 30
    rows_per_task: tuple[int, int] = (1, 3)


@dataclass(frozen=True)
class KeySweep:
    points: tuple[int, ...] = (1, 10, 100, 1000)
    explain: bool = True  # the phase split of the largest point, from auto_explain


@dataclass(frozen=True)
class HistorySweep:
    change_keys: int = 1000


@dataclass(frozen=True)
class DensitySweep:
    rows_per_hour: tuple[int, ...] = (100, 1000, 10_000)  # new rows a fresh hour gains before its tick


@dataclass(frozen=True)
class RateSweep:
    modes: tuple[str, ...] = ("compressed",)
    writes_per_tick: tuple[int, ...] = (100, 1000, 10_000)
    ticks: int = 12
    warmup: int = 3
    max_writes_per_tick: int = 50_000  # the search stops here: beyond, a limit is extrapolated
    mix: dict[str, float] = field(default_factory=lambda: {"insert": 0.8, "rereport": 0.15, "delete": 0.03,
                                                           "reassign": 0.02})
    live_period: float = 2.0  # wall seconds per tick in live mode (the upstream 5 minutes, compressed)
    live_writers: int = 4


@dataclass(frozen=True)
class CrossoverSweep:
    fractions: tuple[float, ...] = (0.0001, 0.001, 0.01, 0.1, 0.5, 1.0)


@dataclass(frozen=True)
class FaultSweep:
    faults: tuple[str, ...] = FAULTS
    writes_per_tick: int = 200
    pause: timedelta = timedelta(days=10)  # longer than the queue's 7-day retention: B5 on the reference
    leak: timedelta = timedelta(days=2)  # another session holds lock 4246: every tick returns 0 (L1)
    slow_periods: int = 6  # one tick held for this many periods by a waitpoint on the state row


@dataclass(frozen=True)
class Budget:
    floor_ms: float = 2.0  # differences below this are noise, whatever their ratio
    tick_p95: float | None = 1.5  # × baseline, at every sweep point
    idle_tick: float | None = 2.0
    writer_p99: float | None = 1.2
    write_cost: float | None = 1.5  # × baseline: the sweeps' own writes (a period's, a keys point's), paired
    rho_max: float | None = 1.0  # absolute: ρ at the planning rate must stay below this
    planning_rate: float | None = None  # writes/s
    # A target past a budget with confidence stops there (a gate fails fast); false: it is measured to the end and
    # judged then (a report, whose every figure is wanted even where a target is over budget).
    stop_early: bool = True


@dataclass(frozen=True)
class PlanSpec:
    """`[plan]`: the production question the report answers first (bench/capacity/plan.py)."""
    writes_per_second: float = 100.0
    history: timedelta = timedelta(days=90)
    period: float = 300.0  # the production period T: the absolute bound (ρ) is judged here, on the model
    workspaces: int | None = None  # None: the spec's [tenants]


@dataclass(frozen=True)
class CapacitySpec:
    name: str
    description: str = ""
    seed: int = 1
    period: float = 300.0  # T, wall seconds: ρ = D / T
    repetitions: int = 3
    max_tick: float | None = None  # seconds: sweep points predicted to take longer are skipped, and say so
    # Seconds of ticks each configuration gathers at a tick point (keys, history, crossover) before its median
    # counts: a cheap point repeats beyond `repetitions` (up to 5×), since a median of 3 ms-long ticks is at the
    # mercy of a few scheduling hiccups.
    point_time: float = 0.5
    history: HistorySize = field(default_factory=HistorySize)
    tenants: Tenants = field(default_factory=Tenants)
    rates: Rates = field(default_factory=Rates)
    keys: KeySweep | None = None
    sizes: HistorySweep | None = None
    density: DensitySweep | None = None
    rate: RateSweep | None = None
    crossover: CrossoverSweep | None = None
    writers: WriterSweep | None = None
    faults: FaultSweep | None = None
    budget: Budget | None = None
    plan: PlanSpec = field(default_factory=PlanSpec)
    source: str = "<string>"

    def quick(self) -> CapacitySpec:
        """--quick: the smallest history, and the sweeps' smaller half."""
        import dataclasses as dc

        def half(points):
            return tuple(points[: max(2, (len(points) + 1) // 2)])

        return dc.replace(
            self, history=dc.replace(self.history, rows=(min(self.history.rows),)),
            keys=self.keys and dc.replace(self.keys, points=half(self.keys.points)),
            density=self.density and dc.replace(self.density, rows_per_hour=half(self.density.rows_per_hour)),
            rate=self.rate and dc.replace(self.rate, modes=("compressed",),
                                          writes_per_tick=half(self.rate.writes_per_tick)),
            crossover=self.crossover and dc.replace(self.crossover, fractions=half(self.crossover.fractions)),
            writers=self.writers and dc.replace(self.writers, concurrency=half(self.writers.concurrency)),
        )  # fmt: skip


_SECTIONS = ("capacity", "history", "tenants", "rates", "sweep", "budget", "plan")
_SECONDS = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m)")


def load(path: str | Path) -> CapacitySpec:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ScenarioError(str(path), "file", None, f"cannot read: {e}") from None
    return loads(text, str(path))


def loads(text: str, source: str = "<string>") -> CapacitySpec:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        line = re.search(r"at line (\d+)", str(e))
        raise ScenarioError(source, "syntax", int(line.group(1)) if line else None, str(e)) from None
    root = Table(Context(source, Locator(text)), (), data, _SECTIONS)
    c = root.table("capacity", ("name", "description", "seed", "period", "repetitions", "max_tick", "point_time"))
    if not c.get("name", "", str).strip():
        c.fail("name", "required (e.g. [capacity] name = \"gate\")")
    sweep = root.table("sweep", ("keys", "history", "density", "rate", "crossover", "writers", "faults"), what="sweep")
    spec = CapacitySpec(
        name=c.get("name", "", str), description=c.get("description", "", str),
        seed=c.number("seed", 1, int, lo=0), period=_seconds(c, "period", "300s"),
        repetitions=c.number("repetitions", 3, int, lo=3, hi=50),
        max_tick=_seconds(c, "max_tick", "0s") if "max_tick" in c.data else None,
        point_time=_seconds(c, "point_time", "500ms"),
        history=_history(root.table("history", [f.name for f in fields(HistorySize)])),
        tenants=read_tenants(root.table("tenants", [f.name for f in fields(Tenants)])),
        rates=read_rates(root.table("rates", [f.name for f in fields(Rates)])),
        keys=_keys(sweep), sizes=_sizes(sweep), density=_density(sweep), rate=_rate(sweep), crossover=_crossover(sweep),
        writers=_writers(sweep), faults=_faults(sweep),
        budget=_budget(root.table("budget", [f.name for f in fields(Budget)])) if "budget" in data else None,
        plan=_plan(root.table("plan", [f.name for f in fields(PlanSpec)]), data.get("budget") or {}),
        source=source,
    )  # fmt: skip
    if spec.budget and spec.budget.planning_rate and not spec.rate:
        root.table("budget", None).fail("planning_rate", "needs a [sweep.rate] to measure ρ at that rate")
    return spec


def _seconds(t: Table, key: str, default: str) -> float:
    text = t.get(key, default, str)
    m = _SECONDS.fullmatch(text)
    if not m or float(m.group(1)) <= 0:
        t.fail(key, f"bad duration {text!r}; expected e.g. '300s', '5m', '500ms'")
    return float(m.group(1)) * {"ms": 0.001, "s": 1.0, "m": 60.0}[m.group(2)]


def _ints(t: Table, key: str, default: tuple[int, ...], lo: int, hi: int) -> tuple[int, ...]:
    values = t.get(key, list(default), list)
    if not values or not all(type(v) is int and lo <= v <= hi for v in values):
        t.fail(key, f"expected a non-empty list of integers in {lo}..{hi}, got {values!r}")
    if sorted(set(values)) != values:
        t.fail(key, "must be strictly increasing")
    return tuple(values)


def _history(t: Table) -> HistorySize:
    d = HistorySize()
    return HistorySize(rows=_ints(t, "rows", d.rows, 1000, 200_000_000),
                       days=t.number("days", d.days, int, lo=1, hi=366),
                       rows_per_task=t.pair("rows_per_task", d.rows_per_task, 6))


def _choices(t: Table, key: str, default: tuple[str, ...], allowed: tuple[str, ...]) -> tuple[str, ...]:
    values = t.strings(key, default)
    for v in values:
        if v not in allowed:
            t.fail(key, f"{v!r} is not one of {', '.join(allowed)}")
    return values


def _sub(sweep: Table, name: str, cls: type) -> Table | None:
    return sweep.table(name, [f.name for f in fields(cls)]) if name in sweep.data else None


def _keys(sweep: Table) -> KeySweep | None:
    if (t := _sub(sweep, "keys", KeySweep)) is None:
        return None
    return KeySweep(points=_ints(t, "points", KeySweep.points, 1, 10_000_000), explain=t.get("explain", True, bool))


def _sizes(sweep: Table) -> HistorySweep | None:
    if (t := _sub(sweep, "history", HistorySweep)) is None:
        return None
    return HistorySweep(change_keys=t.number("change_keys", 1000, int, lo=1))


def _density(sweep: Table) -> DensitySweep | None:
    if (t := _sub(sweep, "density", DensitySweep)) is None:
        return None
    return DensitySweep(rows_per_hour=_ints(t, "rows_per_hour", DensitySweep.rows_per_hour, 1, 10_000_000))


def _rate(sweep: Table) -> RateSweep | None:
    if (t := _sub(sweep, "rate", RateSweep)) is None:
        return None
    d = RateSweep()
    modes = _choices(t, "modes", d.modes, MODES)
    m = t.table("mix", MIX)
    mix = {k: m.number(k, d.mix[k] if "mix" not in t.data else 0.0, float, lo=0) for k in MIX}
    if mix["insert"] <= 0:
        m.fail("insert", "the mix needs new usage rows (insert > 0)")
    ladder = _ints(t, "writes_per_tick", d.writes_per_tick, 1, 10_000_000)
    return RateSweep(
        modes=modes, writes_per_tick=ladder, ticks=t.number("ticks", d.ticks, int, lo=12, hi=10_000),
        warmup=t.number("warmup", d.warmup, int, lo=3, hi=1000),
        max_writes_per_tick=t.number("max_writes_per_tick", max(d.max_writes_per_tick, ladder[-1]), int,
                                     lo=ladder[-1]),
        mix=mix, live_period=_seconds(t, "live_period", "2s"),
        live_writers=t.number("live_writers", d.live_writers, int, lo=1, hi=64),
    )  # fmt: skip


def _crossover(sweep: Table) -> CrossoverSweep | None:
    if (t := _sub(sweep, "crossover", CrossoverSweep)) is None:
        return None
    values = t.get("fractions", list(CrossoverSweep.fractions), list)
    if not values or not all(type(v) in (int, float) and 0 < v <= 1 for v in values) or sorted(values) != values:
        t.fail("fractions", f"expected increasing fractions in (0, 1], got {values!r}")
    return CrossoverSweep(tuple(float(v) for v in values))


def _writers(sweep: Table) -> WriterSweep | None:
    if (t := _sub(sweep, "writers", WriterSweep)) is None:
        return None
    d = WriterSweep()
    rate = t.number("rate_per_writer", 0.0, float, lo=0) if "rate_per_writer" in t.data else None
    return WriterSweep(
        ops=t.number("ops", d.ops, int, lo=1), warmup=t.number("warmup", d.warmup, int, lo=0),
        repetitions=t.number("repetitions", d.repetitions, int, lo=1, hi=50),
        concurrency=_ints(t, "concurrency", d.concurrency, 1, 64),
        concurrent_seconds=t.number("concurrent_seconds", d.concurrent_seconds, float, above=0),
        zipf_s=t.number("zipf_s", d.zipf_s, float, above=0), hot_keys=t.number("hot_keys", d.hot_keys, int, lo=1),
        rate_per_writer=rate or None,
    )  # fmt: skip


def _faults(sweep: Table) -> FaultSweep | None:
    if (t := _sub(sweep, "faults", FaultSweep)) is None:
        return None
    d = FaultSweep()
    faults = _choices(t, "faults", d.faults, FAULTS)
    return FaultSweep(
        faults=faults, writes_per_tick=t.number("writes_per_tick", d.writes_per_tick, int, lo=1),
        pause=t.duration("pause", "10d", lo=timedelta(minutes=10), hi=timedelta(days=60)),
        leak=t.duration("leak", "2d", lo=timedelta(minutes=10), hi=timedelta(days=60)),
        slow_periods=t.number("slow_periods", d.slow_periods, int, lo=2, hi=1000),
    )  # fmt: skip


def _budget(t: Table) -> Budget:
    def ratio(key: str, default: float | None) -> float | None:
        return t.number(key, default, float, above=0) if key in t.data else default

    return Budget(
        floor_ms=t.number("floor_ms", Budget.floor_ms, float, lo=0), tick_p95=ratio("tick_p95", Budget.tick_p95),
        idle_tick=ratio("idle_tick", Budget.idle_tick), writer_p99=ratio("writer_p99", Budget.writer_p99),
        write_cost=ratio("write_cost", Budget.write_cost),
        rho_max=ratio("rho_max", Budget.rho_max),
        planning_rate=t.number("planning_rate", 0.0, float, above=0) if "planning_rate" in t.data else None,
        stop_early=t.get("stop_early", True, bool),
    )  # fmt: skip


def _plan(t: Table, budget: dict) -> PlanSpec:
    rate = budget.get("planning_rate", PlanSpec.writes_per_second)
    return PlanSpec(
        writes_per_second=t.number("writes_per_second", float(rate) if isinstance(rate, (int, float)) else 100.0,
                                   float, above=0),
        history=t.duration("history", "90d", lo=timedelta(days=1), hi=timedelta(days=36500)),
        period=_seconds(t, "period", "5m"),
        workspaces=t.number("workspaces", 0, int, lo=1) if "workspaces" in t.data else None,
    )  # fmt: skip


@dataclass(frozen=True)
class Reach:
    """How a capacity run reaches its servers: the URL for `dsn`, initdb/pg_ctl for `local`, and servers already
    running by name (tests share theirs)."""

    dsn: str | None = None
    pg_bin: str | None = None
    given: dict | None = None
