"""A capacity run: every configuration (target × server) through every sweep the spec declares, each point
repeated in rotated configuration order so that ratios between configurations come from paired measurements.

Each configuration gets its own preloaded template per history size (same drawn rows for all), and each sweep a
fresh clone of it (a lane). Every measured tick is kept (`ticks`), tagged with its sweep and point.
"""

from __future__ import annotations

import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bench.capacity import model as cost
from bench.capacity import stats
from bench.capacity.density import density_sweep
from bench.capacity.lane import FLUSHED, Lane
from bench.capacity.probe import TickCapped
from bench.capacity.stops import Stops
from bench.capacity.noise import Meter
from bench.capacity.parallel import run_split, splittable
from bench.capacity.spec import CapacitySpec, RateSweep, Reach
from bench.capacity.sweeps import CHANGE, IDLE, WORK, WRITE, fault_run, full_rebuild_ms, idle_point, keys_point
from bench.capacity.world import TICK, World, draw, extends, prepare, upgrade
from rollup.database import Database
from rollup.migrations import Target
from rollup.servers import start_server

# Bigger shared buffers and fewer checkpoints than the fast defaults: the 10M-row histories are gigabytes.
SETTINGS = {"shared_buffers": "1GB", "max_wal_size": "8GB", "checkpoint_timeout": "30min"}


@dataclass
class Config:
    target: str
    pg: str
    server: object
    tgt: Target = field(init=False)
    label: str = field(init=False)

    def __post_init__(self) -> None:
        self.tgt = Target.resolve(self.target)
        name = self.target if "/" not in self.target else os.path.basename(self.target.rstrip("/").split(",")[-1])
        self.label = f"{name}@pg{self.server.version().split('.')[0]}"


class CapacityRun(Stops):
    # cost(label, tick record) -> ms: a known duration model injected in place of every measured tick (tests of
    # the machinery's decisions, which must not depend on the machine's speed). None: the ticks are timed.
    cost: Callable[[str, dict], float] | None = None

    def __init__(self, spec: CapacitySpec, targets: list[str], pgs: list[str], baseline: str | None = None,
                 reach: Reach | None = None, on_progress: Callable[[str, float], None] | None = None):
        """`reach.given` maps a name in `pgs` to a server already running (tests share theirs); the others are
        started, with the capacity SETTINGS, and stopped at the end."""
        reach = reach or Reach()
        self.spec, self.targets, self.pgs, self.baseline = spec, targets, pgs, baseline
        self.given = reach.given or {}
        self.dsn, self.pg_bin = reach.dsn, reach.pg_bin
        self.progress = on_progress or (lambda what, units: None)
        self.ticks: list[dict] = []
        self.templates: dict[tuple[str, int], Database] = {}
        self.worlds: dict[int, World] = {}  # drawn, per size
        self.prepared: dict[tuple[str, int], World] = {}  # as each template holds it
        self.loads: dict[tuple[str, int], dict] = {}
        self.meter = Meter()  # the machine's own speed, sampled before every repetition
        self.slowest: dict[str, float] = {}  # server → the baseline's slowest tick so far (ms): the targets' cap
        self.point_slowest: dict[str, float] = {}  # the same at the point being measured (in_point)
        self.in_point = False
        self.stopped: dict[str, dict] = {}  # configurations past a budget with confidence: measured no further
        self.results: dict = {}  # the sweeps done so far (later ones predict from earlier ones)
        self.on_server: Callable[[object], None] = lambda server: None
        # Called before each sweep with its name; a split run waits there for the other servers' processes.
        self.sync: Callable[[str], None] = lambda sweep: None

    # ------------------------------------------------------------ plan

    def units(self) -> dict[str, float]:
        """Rough work per phase (for the ETA): one unit ≈ one measured tick of the smallest history."""
        s, R, n = self.spec, self.spec.repetitions, len(self.targets) * len(self.pgs)
        sizes = s.history.rows
        big = sum(r / sizes[0] for r in sizes)
        u = {"preload": 20 * n * big}
        if s.keys:
            u["keys"] = 2 * R * n * len(s.keys.points)
        if s.sizes:
            u["history"] = 4 * R * n * big
        if s.density:
            u["density"] = 3 * R * n * len(s.density.rows_per_hour)
        if s.crossover:
            u["crossover"] = 2 * R * n * (len(s.crossover.fractions) + 1) * big
        if s.rate:
            u["rate"] = (s.rate.warmup + s.rate.ticks) * n * (R * len(s.rate.writes_per_tick) + 10) * len(s.rate.modes)
        if s.writers:
            u["writers"] = 40 * n
        if s.faults:
            u["faults"] = 30 * n * len(s.faults.faults)
        return u

    # ------------------------------------------------------------ run

    def execute(self) -> dict:
        if not self.given and splittable(self.pgs):
            return run_split(self)
        started, t0 = datetime.now(UTC), time.perf_counter()
        with ExitStack() as stack:
            servers = {pg: self.given.get(pg) or stack.enter_context(
                start_server(pg, dsn=self.dsn, pg_bin=self.pg_bin, settings=SETTINGS)) for pg in self.pgs}
            for server in servers.values():
                self.on_server(server)
            self.configs = [Config(t, pg, servers[pg]) for pg in self.pgs for t in self.targets]
            stack.callback(self._drop_templates)
            results = self.results = {"configs": [{"label": c.label, "target": c.target, "pg": c.pg,
                                                   "server_version": c.server.version(), "jit": c.server.jit()}
                                                  for c in self.configs]}
            s, timings = self.spec, {}
            sweeps = {"keys": (s.keys, self._keys), "history": (s.sizes, self._history),
                      "density": (s.density, lambda: density_sweep(self)),
                      "crossover": (s.crossover, self._crossover), "rate": (s.rate, self._rate),
                      "writers": (s.writers, self._writers), "faults": (s.faults, self._faults)}
            failed, flushed = {}, {}
            skipped: dict[str, str] = {}
            for name, (declared, sweep) in sweeps.items():
                if declared and self._all_stopped():
                    skipped[name] = "not measured: every target already failed its budget with confidence"
                elif declared:
                    self.sync(name)
                    t, f = time.perf_counter(), FLUSHED[0]
                    try:
                        results[name] = sweep()
                    except Exception as exc:  # a finding (or a bench bug): reported, and the other sweeps run
                        failed[name] = f"{type(exc).__name__}: {' '.join(str(exc).split())[:500]}"
                        self.progress(f"{name} failed: {failed[name][:120]}", 0)
                    timings[name] = round(time.perf_counter() - t, 1)
                    flushed[name] = round(FLUSHED[0] - f, 3)
            results["sweep_seconds"], results["failed_sweeps"] = timings, failed
            results["stopped"], results["skipped_sweeps"] = self.stopped, skipped
            results["world"] = self._world()
            results["flush_seconds"] = flushed  # of sweep_seconds: the lanes' page-cache flushes
            results["fixed_work"] = {pg: self.meter.summary() for pg in self.pgs}  # one core for them all
        return {"spec": s.name, "description": s.description, "started": started.isoformat(timespec="seconds"),
                "elapsed_s": time.perf_counter() - t0, "period_s": s.period, "repetitions": s.repetitions,
                "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "os": sys.platform,
                            "ram_gb": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9,
                            "settings": SETTINGS},
                "baseline": self.baseline, "preload": {f"{k[0]}/{k[1]}": v for k, v in self.loads.items()},
                **results}

    def _world(self) -> dict:
        """What a plan needs of the measured world: its span, tenants, write mix and bytes a history row."""
        s = self.spec
        sized = [(h["rows"], h["sizes"].get("task_usage")) for hs in (self.results.get("history") or {}).values()
                 for h in hs if h.get("sizes")]
        return {"rows": s.history.rows[0], "days": s.history.days, "workspaces": s.tenants.workspaces,
                "mix": dict((s.rate or RateSweep()).mix),
                "bytes_per_row": max((b / r for r, b in sized if b), default=None)}

    def _drop_templates(self) -> None:
        for db in self.templates.values():
            try:
                db.drop()
            except Exception:  # a server already gone: its data directory goes with it
                pass

    def template(self, c: Config, rows: int) -> tuple[str, World]:
        """The preloaded template of configuration c at `rows` (made on first use), and its world. A target that
        extends another configuration's on the same server (its migrations, then more) is made from that one's
        template by migrating a copy: the same history, and the way the change would land in production."""
        if rows not in self.worlds:
            self.worlds[rows] = draw(self.spec, rows)
        key = (c.label, rows)
        if key not in self.templates:
            base = next((b for b in self.configs if b.server is c.server and (b.label, rows) in self.templates
                         and extends(b.tgt, c.tgt)), None)  # fmt: skip
            self.progress(f"preload {rows:,} rows on {c.label}" + (f" (from {base.label})" if base else ""), 0)
            t0 = time.perf_counter()
            try:
                if base:
                    db, world = upgrade(c.server, self.templates[(base.label, rows)].name,
                                        self.prepared[(base.label, rows)], c.tgt, self.cap_ms(c))
                else:
                    db, world = prepare(c.server, c.tgt, self.spec, rows, self.worlds[rows], self.cap_ms(c))
            except TickCapped as exc:
                self._capped(c, "preload", rows, exc)
                return None
            self.templates[key], self.prepared[key] = db, world
            if c.target == self.baseline:  # its settling ticks bound its targets' cap from the start
                ticks_ms = (world.stages or {}).get("ticks", 0.0) * 1000
                self.slowest[c.pg] = max(self.slowest.get(c.pg, 0.0), ticks_ms)
            self.loads[key] = {"rows": rows, "prepare_s": round(time.perf_counter() - t0, 2), "stages": world.stages,
                               "from": base.label if base else None, "verified": world.verified}
            self.progress("", 20 * rows / self.spec.history.rows[0])
        return self.templates[key].name, self.prepared[key]

    def prepare_all(self, rows: int) -> None:
        """Every configuration's template at `rows`, each server's in a thread of its own. A preload is mostly
        one backend's work at a time (the rollup fill, an upgrade's migration), so a second server's keeps the
        other core busy; nothing is measured meanwhile."""
        missing = [c for c in self.configs if (c.label, rows) not in self.templates]
        if rows not in self.worlds:
            self.worlds[rows] = draw(self.spec, rows)
        chains: dict[int, list[Config]] = {}
        for c in missing:  # in configuration order, so a base is made before what extends it
            chains.setdefault(id(c.server), []).append(c)
        with ThreadPoolExecutor(max(1, len(chains))) as pool:
            for done in [pool.submit(lambda cs: [self.template(c, rows) for c in cs], cs) for cs in chains.values()]:
                done.result()

    def lanes(self, rows: int, mix: dict | None = None, capped: bool = True) -> dict[str, Lane]:
        self.prepare_all(rows)
        out = {}
        for c in self.configs:
            if c.label in self.stopped:
                continue
            name, world = self.template(c, rows)
            try:
                out[c.label] = Lane(c.server, name, world, self.spec.seed, mix, self.cost_of(c.label),
                                    self.cap_ms(c) if capped else None)
            except TickCapped as exc:
                self._capped(c, "lane", rows, exc)
        return out

    def cost_of(self, label: str):
        return None if self.cost is None else (lambda record: self.cost(label, record))

    def _keep(self, sweep: str, label: str, point, rep: int, records: list[dict]) -> None:
        base = next((c for c in self.configs if c.label == label and c.target == self.baseline), None)
        if base is not None and records:
            slowest = max((r.get("measured_ms", r.get("d_ms")) or 0.0) for r in records)
            self.slowest[base.pg] = max(self.slowest.get(base.pg, 0.0), slowest)
            self.point_slowest[base.pg] = max(self.point_slowest.get(base.pg, 0.0), slowest)
        for r in records:
            r.pop("phases", None)
            self.ticks.append({"sweep": sweep, "config": label, "point": str(point), "rep": rep, **r})

    def _held_out_between(self, lanes: dict[str, Lane], result: dict, rows: int) -> None:
        """Held out inside the measured range: midway (geometrically) in each of the two widest steps of the keys
        sweep, a point predicted by the model fitted on every point measured, then measured — what the plan leans
        on within the range. The next-point predictions of the sweep extrapolate a decade from fewer points."""
        run = {label: lane for label, lane in lanes.items()
               if label not in self.stopped and len(result[label]["points"]) >= 2}
        ks = sorted({p["k"] for label in run for p in result[label]["points"]})
        for k in [round(math.sqrt(a * b)) for a, b in zip(ks, ks[1:]) if b > a + 1][-2:]:
            predicted = {label: cost.predict_next(result[label]["points"], k) for label in run}
            here = {label: lane for label, lane in run.items()
                    if label not in self.stopped and predicted[label] and not self._too_slow(predicted[label])}
            if not here:
                continue
            runs = self._paired(here, lambda lane, rep: keys_point(lane, k, rep), "keys", k, 0, timed=True)
            for label, reps in runs.items():
                measured = statistics.median(r[0]["d_ms"] for r in reps)
                result[label]["validation"].append({"k": k, "rows": rows, "predicted_ms": predicted[label],
                                                    "measured_ms": measured, "ratio": measured / predicted[label],
                                                    "between": True})

    # ------------------------------------------------------------ sweeps

    def _too_slow(self, predicted_ms: float | None) -> bool:
        return bool(self.spec.max_tick and predicted_ms and predicted_ms > self.spec.max_tick * 1000)

    def _keys(self) -> dict:
        rows = self.spec.history.rows[0]
        lanes = self.lanes(rows)
        try:
            available = min(lane.work.keys for lane in lanes.values())
            result = {label: {"history_rows": rows, "points": [], "phases": [], "skipped": [], "validation": [],
                              "keys_total": available} for label in lanes}
            points = [k for k in self.spec.keys.points if k <= available]
            for k in points:
                if self._all_stopped():
                    break
                # A point a configuration would take longer than max_tick on is skipped for it, with the
                # prediction: the line through its last point and that point's tick with nothing dirty (a), so a
                # large fixed cost (hardened on PostgreSQL 15) does not pass for a per-key one.
                run = {}
                for label, lane in lanes.items():
                    last = result[label]["points"][-1] if result[label]["points"] else None
                    a = last and min(last["idle_ms"], last["median_ms"])
                    predicted = last and a + (last["median_ms"] - a) * k / last["k"]
                    if self._too_slow(predicted):
                        result[label]["skipped"].append({"k": k, "predicted_ms": predicted,
                                                         "why": f"predicted over max_tick {self.spec.max_tick:g} s"})
                    else:
                        run[label] = lane
                if not run:
                    break
                # Held out: once two points are in, each next one is predicted by the cost model before it is
                # measured, and the report states prediction, measurement and their ratio.
                predicted = {label: cost.predict_next(result[label]["points"], k) for label in run}
                runs = self._paired(run, lambda lane, rep: keys_point(lane, k, rep), "keys", k, 2, timed=True,
                                    figures={"tick_p95": WORK, "write_cost": WRITE})
                for label, reps in runs.items():
                    d = [r[0]["d_ms"] for r in reps]
                    if predicted[label] is not None:
                        measured = statistics.median(d)
                        result[label]["validation"].append({"k": k, "rows": rows, "predicted_ms": predicted[label],
                                                            "measured_ms": measured,
                                                            "ratio": measured / predicted[label]})
                    sp = stats.spread(d)
                    result[label]["points"].append({
                        "k": k, "median_ms": sp["median"], "min_ms": sp["min"], "max_ms": sp["max"], "reps": len(d),
                        "samples_ms": d, "write_samples_ms": [WRITE(r) for r in reps],
                        "p99_ms": cost.quantile(d, 99),  # HDR histogram, 3 significant digits
                        "read_samples": [r[0]["raw_rows_read"] for r in reps],
                        "idle_ms": stats.spread([r[1]["d_ms"] for r in reps])["median"],  # the tick after, k = 0
                        "p95_ms": sp["p95"], "raw_rows_read": stats.spread([r[0]["raw_rows_read"] for r in reps])["median"],
                        "upserts_per_key": sum(x["upserted"] + x["deleted"] for r in reps for x in r) / len(reps) / k})
            self._held_out_between(lanes, result, rows)
            for label, res in result.items():
                pts = res["points"]
                if len(pts) >= 2:  # D = a + b·k with a, b ≥ 0, on every measured tick (not the medians)
                    m = cost.fit([(p["k"], 0.0, ms) for p in pts for ms in p["samples_ms"]])
                    res["fit"] = {"a_ms": m.term("fixed"), "b_ms": m.term("per_key"), "r2": m.r2,
                                  "residual_ms": m.residual_ms}
                res["skipped"] += [{"k": k, "why": f"more than the {available:,} keys the history has"}
                                   for k in self.spec.keys.points if k > available]
            if self.spec.keys.explain:  # the phase split of each one's largest point, on extra ticks kept out
                for label, lane in lanes.items():
                    if result[label]["points"] and label not in self.stopped:
                        k = result[label]["points"][-1]["k"]
                        work, _ = keys_point(lane, k, self.spec.repetitions, explain=True)
                        result[label]["phases"].append({"k": k, "statements": work.get("phases", [])})
            return result
        finally:
            for lane in lanes.values():
                lane.close()

    def _history(self) -> dict:
        result: dict[str, list] = {c.label: [] for c in self.configs}
        k = self.spec.sizes.change_keys
        big = self.spec.history.rows[0]
        for rows in self.spec.history.rows:
            if self._all_stopped():
                break
            lanes = self.lanes(rows)
            try:
                def point(lane: Lane, rep: int) -> list[dict]:
                    return [*idle_point(lane), *keys_point(lane, min(k, lane.work.keys), rep)]

                runs = self._paired(lanes, point, "history", rows, 4 * rows / big, timed=True,
                                    figures={"tick_p95": CHANGE, "idle_tick": IDLE})
                for label, reps in runs.items():
                    last = reps[-1][0]
                    idle = [x["d_ms"] for r in reps for x in r if x["role"] == "idle"]
                    change = [x["d_ms"] for r in reps for x in r if x["role"] == "work"]
                    result[label].append({
                        "rows": rows, "prepare_s": self.loads[(label, rows)]["prepare_s"],
                        "verified": self.loads[(label, rows)]["verified"], "change_keys": min(k, lanes[label].work.keys),
                        "change_ms": stats.spread(change), "idle_ms": stats.spread(idle),
                        "change_samples_ms": [CHANGE(r) for r in reps], "idle_samples_ms": [IDLE(r) for r in reps],
                        "change_reads": [CHANGE(r, "raw_rows_read") for r in reps],
                        "idle_reads": [IDLE(r, "raw_rows_read") for r in reps],
                        "sizes": {key[5:]: v for key, v in last.items() if key.startswith("size_")}})
            finally:
                for lane in lanes.values():
                    lane.close()
        return result

    def _crossover(self) -> dict:
        """Full rebuild against the incremental tick at growing dirty fractions. The full rebuild does not depend
        on the fraction: it is measured `repetitions` times per history size (once for a template and those
        upgraded from it), and every fraction is compared with it. Past the first fraction where full wins, larger ones are skipped (incremental only gets
        costlier), as are those predicted over max_tick."""
        result: dict[str, dict] = {c.label: {} for c in self.configs}
        big = self.spec.history.rows[0]
        for rows in self.spec.history.rows:
            if self._all_stopped():
                break
            lanes = self.lanes(rows)
            try:
                keys = min(lane.work.keys for lane in lanes.values())
                # The full rebuild is the bench's SQL over the raw tables; a template upgraded from another holds
                # that one's very rows, so its full rebuild is measured once, on the base, and shared.
                base = {label: self.loads[(label, rows)]["from"] or label for label in lanes}
                own = {label: lane for label, lane in lanes.items() if base[label] == label}
                full = self._paired(own, lambda lane, rep: [{"full_ms": full_rebuild_ms(lane)}],
                                    "crossover-full", rows, 2 * rows / big)
                for label in lanes:
                    result[label][str(rows)] = {
                        "points": [], "keys_total": keys, "skipped": [], "full_from": base[label],
                        "full_ms": stats.spread([r[0]["full_ms"] for r in full[base[label]]])}
                for f in self.spec.crossover.fractions:
                    k = max(1, round(f * keys))
                    run = {}
                    for label, lane in lanes.items():
                        res = result[label][str(rows)]
                        last = res["points"][-1] if res["points"] else None
                        per_key = (last["incremental_ms"]["median"] / last["keys"] if last
                                   else self._per_key_ms(label, rows))
                        predicted = per_key and per_key * k
                        if last and last["speedup"] is not None and last["speedup"] < 1:
                            res["skipped"].append({"fraction": f, "why": "past the crossover"})
                        elif self._too_slow(predicted):
                            res["skipped"].append({"fraction": f, "predicted_ms": predicted,
                                                   "why": f"predicted over max_tick {self.spec.max_tick:g} s"})
                        else:
                            run[label] = lane
                    if not run:
                        break
                    runs = self._paired(run, lambda lane, rep: keys_point(lane, k, rep), "crossover",
                                        f"{rows}:{f}", 2 * rows / big, timed=True, figures={"tick_p95": WORK})
                    for label, reps in runs.items():
                        res = result[label][str(rows)]
                        inc = stats.spread([r[0]["d_ms"] for r in reps])
                        res["points"].append({"fraction": f, "keys": k, "incremental_ms": inc, "full_ms": res["full_ms"],
                                              "samples_ms": [r[0]["d_ms"] for r in reps],
                                              "read_samples": [r[0]["raw_rows_read"] for r in reps],
                                              "speedup": res["full_ms"]["median"] / inc["median"] if inc["median"] else None})
                for label in lanes:
                    res = result[label][str(rows)]
                    pts = [p for p in res["points"] if p["speedup"]]
                    res["crossover_fraction"] = stats.crossover([(p["fraction"], p["speedup"]) for p in pts])
                    if res["crossover_fraction"] is None and pts and pts[-1]["speedup"] > 1 and res["skipped"]:
                        # Not reached within max_tick: incremental grows at most in proportion to the keys
                        # (a ≥ 0), so full wins no sooner than this. Marked as extrapolated, never as measured.
                        res["crossover_at_least"] = pts[-1]["fraction"] * pts[-1]["speedup"]
            finally:
                for lane in lanes.values():
                    lane.close()
        return result

    def _per_key_ms(self, label: str, rows: int) -> float | None:
        """Milliseconds per dirty key at this history size, from the history sweep's change (an over-estimate,
        since a ≥ 0): what predicts a first crossover point before any is measured."""
        for h in self.results.get("history", {}).get(label, []):
            if h["rows"] == rows and h["change_keys"]:
                return h["change_ms"]["median"] / h["change_keys"]
        return None

    def _rate(self) -> dict:
        from bench.capacity.rate import rate_sweep

        return rate_sweep(self)

    def _writers(self) -> dict:
        from bench.capacity.writers import measure_writers

        out = {}
        for c in [c for c in self.configs if c.label not in self.stopped]:
            self.progress(f"writers · {c.label}", 0)
            out[c.label] = measure_writers(c.server, c.target, self.spec.writers, seed=self.spec.seed,
                                           on_step=lambda d, c=c: self.progress(f"writers · {c.label} · {d}", 0))
            self.progress("", 40)
        return out

    def _faults(self) -> dict:
        f = self.spec.faults
        out: dict[str, dict] = {c.label: {} for c in self.configs}
        durations = {"pause": round(f.pause / TICK), "leak": round(f.leak / TICK), "slow": f.slow_periods}
        for fault in f.faults:
            lanes = self.lanes(self.spec.history.rows[0], (self.spec.rate or RateSweep()).mix, capped=False)
            try:
                for c in [c for c in self.configs if c.label in lanes]:
                    self.progress(f"fault {fault} · {c.label}", 0)
                    r = fault_run(lanes[c.label], fault, f.writes_per_tick, 3, durations[fault], self.spec.period)
                    out[c.label][fault] = r
                    self._keep("faults", c.label, fault, 0, [dict(s) for s in r["series"]])
                    self.progress("", 30)
            finally:
                for lane in lanes.values():
                    lane.close()
        return out
