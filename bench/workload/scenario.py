"""Declarative scenario files (TOML): parsed with tomllib, validated, every problem reported as file:line: key."""

from __future__ import annotations

import hashlib
import json
import random
import re
import tomllib
import warnings
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.workload import bounds as B
from bench.workload import zones as tz
from bench.workload.faults import ASKS, REGISTRY
from bench.workload.kinds import OLD_NAMES, WEIGHTED
from bench.workload.ops import BREAKERS as BREAKER_OPS
from bench.workload.ops import CATALOG, FAULTS
from bench.workload.schema import Context, Locator, ScenarioError, Table
from bench.workload.steps import Step, read_steps

TARGETS = ("reference", "hardened", "default")
ODD_ROLES = ("tick", "backfill", "session-0")  # the sessions `cover.odd_zones` puts in non-whole-hour zones
DRIFT = ("none", "some", "any")
FAILURE_LEVELS = ("none", "some", "any")
SESSION_ZONES = ("utc", "random")
REPRESENTATION = ("none", "non_whole_hour_only", "some", "any")
OPS = {k: w for k, w in WEIGHTED.items() if k not in BREAKER_OPS}  # operation kind -> default weight
BREAKERS = tuple(k for k in WEIGHTED if k in BREAKER_OPS)  # B12/B13: no application path, opt-in only
PROVIDERS = {"anthropic": 0.6, "google": 0.1, "openai": 0.3}  # by name, as validated provider tables are
MODELS = {
    "anthropic": ("claude-sonnet-4", "claude-haiku-4"),
    "google": ("gemini-2.5-pro",),
    "openai": ("gpt-5", "gpt-5-mini"),
}
RATE_KEYS = {f.rate: f.name for f in REGISTRY}  # [faults] rate key -> fault kind
FAULT_PARAMETERS = ("commit_latency", "rollback_share", "pause_length", "long_pause_length", "lock_timeout", "swarm")
# Local-hour activity of an office: quiet nights, a morning and an afternoon peak, a lunch dip.
OFFICE = (
    0.1, 0.1, 0.1, 0.1, 0.1, 0.2, 0.4, 0.8, 1.6, 2.2, 2.4, 2.2,
    1.6, 2.0, 2.3, 2.2, 1.9, 1.4, 0.9, 0.7, 0.5, 0.4, 0.2, 0.1,
)  # fmt: skip


@dataclass(frozen=True)
class Tenants:
    workspaces: int = 2
    users: int = 2
    runtimes: int = 2
    agents: int = 3
    projects: int = 2
    issues: int = 10
    zones: tuple[str, ...] = ("America/Los_Angeles", "Europe/Berlin", "Asia/Kolkata", "Asia/Tokyo")
    cross_workspace_issues: float = 0.0


@dataclass(frozen=True)
class Tokens:
    input_median: int = 1500
    input_sigma: float = 1.0
    output_median: int = 400
    output_sigma: float = 0.8
    cache_share: float = 0.6
    cache_read_ratio: float = 3.0


@dataclass(frozen=True)
class Rates:
    tasks_per_hour: float = 10.0
    diurnal: str | tuple[float, ...] = "office"
    usage_rows_per_task: tuple[int, int] = (1, 3)
    reports_per_row: tuple[int, int] = (1, 2)
    chat_share: float = 0.2
    backdated_share: float = 0.01
    backdated_max: timedelta = timedelta(days=3)
    # Share of usage rows whose created_at falls exactly on an edge (a UTC hour, a quarter hour, local midnight,
    # a DST transition), as imported or backdated usage with second precision does.
    boundary_share: float = 0.0
    bursts_per_day: float = 0.5
    burst_factor: float = 4.0
    burst_length: timedelta = timedelta(minutes=20)
    providers: dict[str, float] = field(default_factory=lambda: dict(PROVIDERS))
    models: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(MODELS))
    tokens: Tokens = field(default_factory=Tokens)

    def hourly_profile(self) -> tuple[float, ...]:
        """Multipliers of tasks_per_hour for each local hour 0..23, with mean 1 (so the rate stays a daily mean)."""
        raw = OFFICE if self.diurnal == "office" else (1.0,) * 24 if self.diurnal == "flat" else self.diurnal
        return tuple(24 * w / sum(raw) for w in raw)


@dataclass(frozen=True)
class Operations:
    per_hour: float = 1.0
    breakers: bool = False
    weights: dict[str, float] = field(default_factory=lambda: OPS | dict.fromkeys(BREAKERS, 0.0))


@dataclass(frozen=True)
class PipelineSettings:
    tick_every: timedelta = timedelta(minutes=5)
    scheduler: bool = False
    replicas: int = 1
    check_every: timedelta = timedelta(days=1)
    sessions: int = 2


@dataclass(frozen=True)
class Views:
    view: tuple[str, ...] = ("UTC", "America/Los_Angeles", "Asia/Kolkata")
    random: int = 0
    report_days: int = 30
    sessions: str = "utc"  # the TimeZone of the application's sessions and the server's default: utc or random


@dataclass(frozen=True)
class Faults:
    """A seeded nemesis schedule for generated scenarios (bench/workload/schedule.py): each fault kind's rate per
    simulated day, under its registry key (bench/workload/faults.py), and their parameters. Every fault is an
    operation in the history, so a replay imposes it again."""

    rates: dict[str, float] = field(default_factory=lambda: {f.name: 0.0 for f in REGISTRY})  # kind -> a day
    commit_latency: tuple[timedelta, timedelta] = (timedelta(seconds=30), timedelta(minutes=20))
    rollback_share: float = 0.2  # of late transactions
    pause_length: tuple[timedelta, timedelta] = (timedelta(minutes=10), timedelta(hours=6))
    long_pause_length: tuple[timedelta, timedelta] = (timedelta(days=9), timedelta(days=10))
    lock_timeout: timedelta = timedelta(seconds=1)  # wall time a write waits on a nemesis-held lock, then fails
    swarm: bool = False  # each seed draws which kinds are on and at what rates (bench.workload.faults.swarm)

    def __getattr__(self, key: str) -> float:  # a rate by its [faults] key: `faults.requeues`
        if key in RATE_KEYS:
            return self.rates[RATE_KEYS[key]]
        raise AttributeError(key)

    def any(self) -> bool:
        return any(self.rates.values())


@dataclass(frozen=True)
class Cover:
    """What a generated run must contain by construction, whatever its seed draws (`[cover]`): production's
    faults, placed where they bite (bench/workload/schedule.py), and said in the verdict's coverage line."""

    odd_zones: bool = False  # the tick's (so the window's), the backfill's and the first writer's sessions in zones
    # whose UTC offset is not a whole hour
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ASKS, 0))  # [cover] key -> how many

    def __getattr__(self, key: str) -> int:  # a count by its [cover] key: `cover.requeues`
        if key in ASKS:
            return self.counts[key]
        raise AttributeError(key)

    def asking(self, **counts: int) -> Cover:  # the same, asking for other counts
        return replace(self, counts=self.counts | counts)

    def any(self) -> bool:
        return self.odd_zones or any(self.counts.values())


@dataclass(frozen=True)
class Expectation:
    hour_drift: str = "none"
    report_drift: str = "none"
    representation_error: str = "any"
    reproduced: bool | None = None  # scripted reproductions: shows its signature (True) or converges (False)
    # Operation kind -> "none", "some" or "any" of them may fail. Unlisted kinds: faults and assumption breakers
    # "any", everything else "none" (see `failure_level`).
    failures: dict[str, str] = field(default_factory=dict)

    def failure_level(self, kind: str) -> str:
        return self.failures.get(kind) or ("any" if kind in FAULTS or kind in BREAKER_OPS else "none")


@dataclass(frozen=True)
class Repro:
    """What a scripted reproduction is about: a catalogue id and the divergence it shows on a faithful target."""

    id: str = ""
    summary: str = ""
    reachable: str = ""
    signature: tuple[str, ...] = ()  # e.g. "hour:extra", "report:error", "state:error_lost"
    migrate_to: str = ""  # migrate only this far before the steps; a `migrate` step does the rest


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str = ""
    seed: int = 1
    start: datetime = datetime(2026, 3, 2, tzinfo=UTC)
    duration: timedelta = timedelta(days=1)
    tenants: Tenants = field(default_factory=Tenants)
    rates: Rates = field(default_factory=Rates)
    operations: Operations = field(default_factory=Operations)
    pipeline: PipelineSettings = field(default_factory=PipelineSettings)
    zones: Views = field(default_factory=Views)
    faults: Faults = field(default_factory=Faults)
    cover: Cover = field(default_factory=Cover)
    expect: dict[str, Expectation] = field(default_factory=dict)
    repro: Repro | None = None
    steps: tuple[Step, ...] = ()  # a scripted scenario replaces the generator by these
    source: str = field(default="<string>", compare=False)  # where it was read from; not part of its identity

    def expectation(self, target: str) -> Expectation:
        """What this scenario expects of a target: its own table, else [expect.default], else the built-in."""
        return self.expect.get(target) or self.expect.get("default") or Expectation()

    def view_zones(self) -> list[str]:
        """The zones reports are viewed in: the listed ones, then `random` more drawn by the seed."""
        return [*self.zones.view, *tz.draw(self.zones.random, self.seed, exclude=self.zones.view)]

    def nemesis(self) -> bool:
        """Whether a generated run has a fault schedule: faults drawn at rates, or ones it must cover."""
        return self.faults.any() or self.cover.any()

    def session_zones(self) -> dict[str, str]:
        """With `zones.sessions = "random"`: the TimeZone of each application role's sessions, drawn by seed
        (non-whole-hour, DST and date-line zones first), and the server's default (`server`). A role drawn ""
        sets none and gets the server's default. With `cover.odd_zones`, the tick, the backfill and the first
        writer are in zones whose offset is not a whole hour, whatever the rest drew. Empty: every session in UTC."""
        zones: dict[str, str] = {}
        if self.zones.sessions == "random":
            roles = ["server", "tick", "backfill", "loader", *(f"session-{i}" for i in range(self.pipeline.sessions))]
            rng = random.Random(f"{self.seed}:session-zones")
            drawn = tz.draw(len(roles), rng.randrange(2**32))
            rng.shuffle(drawn)
            zones = {role: "" if role != "server" and rng.random() < 0.25 else zone
                     for role, zone in zip(roles, drawn)}
        if self.cover.odd_zones:
            seed = random.Random(f"{self.seed}:odd-zones").randrange(2**32)
            odd = tz.odd(len(ODD_ROLES), seed, self.start - timedelta(days=1), self.start + self.duration)
            zones = {"server": "UTC"} | zones | dict(zip(ODD_ROLES, odd))  # the rest in UTC, not the machine's zone
        return zones

    def digest(self) -> str:
        """sha256 of a canonical rendering of the validated values: equal scenarios, equal digests."""
        data = asdict(self)
        del data["source"]
        faults, cover = data["faults"], data["cover"]  # rendered flat, under their keys, as first recorded
        faults.update({f.rate: faults["rates"][f.name] for f in REGISTRY})
        del faults["rates"]
        cover.update(cover.pop("counts"))
        for path, default in LATER.items():  # added since: at their defaults, digests stay as they were
            *parents, key = path
            node = data
            for p in parents:
                node = node[p]
            if node[key] == default:
                del node[key]
        for e in data["expect"].values():  # absent before expected failures existed: digests stay as they were
            if not e["failures"]:
                del e["failures"]
        for step in data["steps"]:
            step.pop("line", None)
        weights = data["operations"]["weights"]  # under the names digests were first recorded with
        for kind, default in WEIGHTED.items():
            if kind not in OLD_NAMES.values() and weights[kind] == default:
                del weights[kind]  # a kind added since, at its default
        data["operations"]["weights"] = {FIRST_NAMES.get(k, k): v for k, v in weights.items()}
        text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=_canonical)
        return hashlib.sha256(f"rollup-bench scenario v1\n{text}".encode()).hexdigest()


# Settings added after scenario digests were first recorded, and their defaults: a scenario that leaves one at its
# default renders without it, so its digest (and its histories) stay what they were.
FIRST_NAMES = {new: old for old, new in OLD_NAMES.items()}
_FAULTS_LATER = {**{f.rate: 0.0 for f in REGISTRY if f.since}, "long_pause_length": Faults.long_pause_length,
                 "swarm": False}
_FIRST_FAULTS = {**{f.rate: 0.0 for f in REGISTRY if not f.since},
                 **{k: v for k, v in asdict(Faults()).items() if k not in _FAULTS_LATER and k != "rates"}}
LATER = {("rates", "boundary_share"): 0.0, ("zones", "sessions"): "utc",
         **{("faults", key): default for key, default in _FAULTS_LATER.items()},
         **{("cover", a.key): 0 for a in ASKS.values() if a.since},
         ("faults",): _FIRST_FAULTS,
         ("cover",): {"odd_zones": False, **{a.key: 0 for a in ASKS.values() if not a.since}}}


def _canonical(value: Any) -> Any:
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot render {type(value).__name__}")


def _fields(cls: type) -> list[str]:
    return [f.name for f in fields(cls)]


def load(path: str | Path) -> Scenario:
    """Read and validate a scenario file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ScenarioError(str(path), "file", None, f"cannot read: {e}") from None
    return loads(text, source=str(path))


def loads(text: str, source: str = "<string>") -> Scenario:
    """Parse and validate scenario text; `source` names it in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        found = re.search(r"\(at line (\d+), column (\d+)\)|\(at end of document\)", str(e))
        if found and found.group(1):
            line, message = int(found.group(1)), f"{str(e)[: found.start()].strip()} (column {found.group(2)})"
        else:  # tomllib reports "end of document" for an unclosed value: point at the last line
            line, message = max(1, len(text.splitlines())), str(e)
        raise ScenarioError(source, "syntax", line, message) from None
    root = Table(Context(source, Locator(text)), (), data, _SECTIONS)
    return _scenario(root)


_SECTIONS = ("scenario", "tenants", "rates", "operations", "pipeline", "zones", "faults", "cover", "expect", "repro",
             "step")
SIGNATURES = ("hour:missing", "hour:extra", "hour:mismatched", "report:drift", "report:representation",
              "report:error", "state:error_lost")


def _scenario(root: Table) -> Scenario:
    s = root.table("scenario", ("name", "description", "seed", "start", "duration"))
    if "name" not in s.data:
        s.fail("name", "required (a minimal file is: [scenario] name = \"...\")")
    name = s.get("name", "", str)
    if not name.strip():
        s.fail("name", "must not be empty")
    return B.workload(root, Scenario(
        name=name, description=s.get("description", "", str), seed=s.number("seed", 1, int, lo=0),
        start=s.instant("start", Scenario.start), duration=s.duration("duration", "1d", hi=timedelta(days=400)),
        tenants=read_tenants(root.table("tenants", _fields(Tenants))),
        rates=read_rates(root.table("rates", _fields(Rates))),
        operations=_operations(root.table("operations", _fields(Operations))),
        pipeline=_pipeline(root.table("pipeline", _fields(PipelineSettings))),
        zones=_views(root.table("zones", _fields(Views))),
        faults=_faults(root, root.table("faults", (*RATE_KEYS, *FAULT_PARAMETERS))),
        cover=_cover(root, root.table("cover", ("odd_zones", *ASKS))),
        expect=_expect(root.table("expect", TARGETS, what="target")),
        repro=_repro(root.table("repro", _fields(Repro))) if "repro" in root.data else None,
        steps=read_steps(root), source=root.ctx.source,
    ))  # fmt: skip


def read_tenants(t: Table) -> Tenants:
    d = Tenants()
    counts = {k: t.number(k, getattr(d, k), int, lo=lo, hi=B.ISSUES_MAX if k == "issues" else B.PER_TENANT_MAX)
              for k, lo in [("users", 1), ("runtimes", 1), ("agents", 1), ("projects", 0), ("issues", 0)]}
    if not (zones := t.strings("zones", d.zones, zones=True)):
        t.fail("zones", "needs at least one zone")
    return Tenants(
        workspaces=B.workspaces(t, counts, d.workspaces), **counts, zones=zones,
        cross_workspace_issues=t.number("cross_workspace_issues", d.cross_workspace_issues, float, lo=0, hi=1),
    )  # fmt: skip


def read_rates(t: Table) -> Rates:
    d = Rates()
    diurnal = t.get("diurnal", d.diurnal, str, list)
    if isinstance(diurnal, str) and diurnal not in ("flat", "office"):
        t.fail("diurnal", f"{diurnal!r} is not one of flat, office, or a list of 24 weights")
    if isinstance(diurnal, list):
        numeric = all(type(w) in (int, float) and w >= 0 for w in diurnal)
        if len(diurnal) != 24 or not numeric or sum(diurnal) <= 0:
            t.fail("diurnal", "a list must hold 24 non-negative numbers (local hours 0..23) with a positive sum")
        diurnal = tuple(float(w) for w in diurnal)
    # A providers table replaces the default mix; models default per provider, so adding one needs only its models.
    p = t.table("providers", None)
    # Sorted by name, so the generator's draws do not depend on the order the file lists them in.
    given = {k: p.number(k, 0.0, float, lo=0) for k in sorted(p.data)}
    providers = given if "providers" in t.data else dict(PROVIDERS)
    if sum(providers.values()) <= 0:
        p.ctx.fail(p.path, "needs at least one provider with a positive weight")
    m = t.table("models", providers)  # models of a provider that has no weight are a typo
    models = {k: m.strings(k, MODELS.get(k, ())) for k in providers}
    for k, weight in providers.items():
        if weight > 0 and not models[k]:
            (m if k in m.data else p).fail(k, f"provider {k!r} has weight {weight} but no models in rates.models")
    k, dk = t.table("tokens", _fields(Tokens)), Tokens()
    tokens = Tokens(
        input_median=k.number("input_median", dk.input_median, int, lo=1, hi=B.TOKENS_MAX),
        input_sigma=k.number("input_sigma", dk.input_sigma, float, lo=0, hi=B.SIGMA_MAX),
        output_median=k.number("output_median", dk.output_median, int, lo=1, hi=B.TOKENS_MAX),
        output_sigma=k.number("output_sigma", dk.output_sigma, float, lo=0, hi=B.SIGMA_MAX),
        cache_share=k.number("cache_share", dk.cache_share, float, lo=0, hi=1),
        cache_read_ratio=k.number("cache_read_ratio", dk.cache_read_ratio, float, lo=0, hi=B.CACHE_RATIO_MAX),
    )
    return Rates(
        tasks_per_hour=t.number("tasks_per_hour", d.tasks_per_hour, float, above=0, hi=B.RATE_MAX), diurnal=diurnal,
        usage_rows_per_task=t.pair("usage_rows_per_task", d.usage_rows_per_task, 20),
        reports_per_row=t.pair("reports_per_row", d.reports_per_row, 20),
        chat_share=t.number("chat_share", d.chat_share, float, lo=0, hi=1),
        backdated_share=t.number("backdated_share", d.backdated_share, float, lo=0, hi=1),
        backdated_max=t.duration("backdated_max", "3d"),
        boundary_share=t.number("boundary_share", d.boundary_share, float, lo=0, hi=1),
        bursts_per_day=t.number("bursts_per_day", d.bursts_per_day, float, lo=0, hi=B.BURSTS_PER_DAY_MAX),
        burst_factor=t.number("burst_factor", d.burst_factor, float, lo=1, hi=B.BURST_FACTOR_MAX),
        burst_length=t.duration("burst_length", "20m"),
        providers=providers, models=models, tokens=tokens,
    )  # fmt: skip


class ScenarioWarning(UserWarning):
    """Something a scenario still may say, but should not: one line, file:line: key: message."""


def _operations(t: Table) -> Operations:
    breakers = t.get("breakers", False, bool)
    w = t.table("weights", (*OPS, *BREAKERS, *OLD_NAMES))
    said = {}  # kind -> the name the file gave it by, for errors
    for old, new in OLD_NAMES.items():  # the weights' first names, from before there was one vocabulary
        if old in w.data:
            if new in w.data:
                w.fail(old, f"the former name of {new}, which is given too")
            w.data[new], said[new] = w.data.pop(old), old
            where = f"{w.ctx.source}:{w.ctx.locator.line((*w.path, old))}"
            warnings.warn(f"{where}: operations.weights.{old}: deprecated name; say {new}", ScenarioWarning,
                          stacklevel=2)
    weights = {op: w.number(op, OPS.get(op, 0.0), float, lo=0) for op in (*OPS, *BREAKERS)}
    for op in BREAKERS:
        if weights[op] > 0 and not breakers:
            w.fail(said.get(op, op), "a breaker (no application path) needs operations.breakers = true")
    return Operations(t.number("per_hour", 1.0, float, lo=0, hi=B.RATE_MAX), breakers, weights)


def _pipeline(t: Table) -> PipelineSettings:
    tick_every = t.duration("tick_every", "5m", lo=timedelta(minutes=1), hi=timedelta(days=1))
    return PipelineSettings(
        tick_every=tick_every, scheduler=t.get("scheduler", False, bool),
        replicas=t.number("replicas", 1, int, lo=1, hi=16),
        check_every=t.duration("check_every", "1d", lo=tick_every, lo_name="tick_every = "),
        sessions=t.number("sessions", 2, int, lo=1, hi=32),
    )  # fmt: skip


def _views(t: Table) -> Views:
    view = t.strings("view", Views.view)
    for name in view:  # "Local" is no IANA zone, but the application accepts it (B11 needs it)
        if name != "Local" and not tz.is_zone(name):
            t.fail("view", f"unknown IANA zone {name!r}")
    return Views(
        view=view,
        random=t.number("random", Views.random, int, lo=0, hi=64),
        report_days=t.number("report_days", Views.report_days, int, lo=1, hi=365),
        sessions=t.choice("sessions", Views.sessions, SESSION_ZONES),
    )


def _faults(root: Table, t: Table) -> Faults:
    d = Faults()
    f = Faults(rates={f.name: t.number(f.rate, 0.0, float, lo=0, hi=1000) for f in REGISTRY},
               commit_latency=t.span("commit_latency", d.commit_latency),
               rollback_share=t.number("rollback_share", d.rollback_share, float, lo=0, hi=1),
               pause_length=t.span("pause_length", d.pause_length),
               long_pause_length=t.span("long_pause_length", d.long_pause_length),
               lock_timeout=t.duration("lock_timeout", "1s", hi=timedelta(minutes=1)),
               swarm=t.get("swarm", False, bool))
    if (f.any() or f.swarm) and "step" in root.data:
        t.fail(next(iter(t.data)), "a scripted scenario imposes its faults in its steps, not by schedule")
    return f


def _cover(root: Table, t: Table) -> Cover:
    c = Cover(odd_zones=t.get("odd_zones", False, bool),
              counts={a.key: t.number(a.key, 0, int, lo=0, hi=a.hi) for a in ASKS.values()})
    if c.any() and "step" in root.data:
        t.fail(next(iter(t.data)), "a scripted scenario says what it does in its steps: [cover] is for generated ones")
    if c.any() and root.data.get("pipeline", {}).get("scheduler"):
        t.fail(next(iter(t.data)), "[cover] places its faults on the fixed tick cadence; pipeline.scheduler moves "
                                   "ticks")
    return c


def _expect(t: Table) -> dict[str, Expectation]:
    result = {}
    for target in t.data:
        e = t.table(target, _fields(Expectation))
        result[target] = Expectation(
            hour_drift=e.choice("hour_drift", "none", DRIFT),
            report_drift=e.choice("report_drift", "none", DRIFT),
            representation_error=e.choice("representation_error", "any", REPRESENTATION),
            reproduced=e.get("reproduced", False, bool) if "reproduced" in e.data else None,
            failures=_failures(e.table("failures", CATALOG, what="operation kind")),
        )
    return result


def _failures(t: Table) -> dict[str, str]:
    return {kind: t.choice(kind, "none", FAILURE_LEVELS) for kind in t.data}


def _repro(t: Table) -> Repro:
    signature = t.strings("signature", ())
    for item in signature:
        if item not in SIGNATURES:
            t.fail("signature", f"{item!r} is not one of {', '.join(SIGNATURES)}")
    return Repro(id=t.get("id", "", str), summary=t.get("summary", "", str), reachable=t.get("reachable", "", str),
                 signature=signature, migrate_to=t.get("migrate_to", "", str))
