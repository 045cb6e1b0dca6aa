"""One scenario run end to end — operations, run, verdict, files — shared by run, replay, repro and gate."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import polars as pl
import psycopg

from bench.orchestrate.errors import BadInput, ServerLost
from bench.orchestrate.request import RunRequest, ScenarioText
from bench.drive import snapshots
from bench.drive.chain import HistoryError
from bench.drive.history import TICK_RETURNED_FAILURE, History, as_seen, count_failure
from bench.drive.runner import NotApplicable, RunHooks, RunResult, RunSpec, run, scripted_ops
from bench.judge import catalogue, checker, record
from bench.judge.record import Verdict
from bench.judge.verdict import evaluate, markdown, not_applicable
from bench.workload.faults import NEMESIS_CONN
from bench.workload.generator import generate
from bench.workload.ops import WORKLOAD, Op
from bench.workload.scenario import Scenario, loads
from bench.workload.schema import ScenarioError
from rollup.migrations import MIGRATIONS_ROOT, Target, Templates

SCENARIOS = MIGRATIONS_ROOT.parent / "scenarios"


def reachable(server) -> bool:
    try:
        with psycopg.connect(server.admin_conninfo, connect_timeout=5):
            return True
    except psycopg.Error:
        return False


def ops_for(sc: Scenario, columns: tuple = ()) -> list[Op]:
    """A scripted scenario's steps, or the generator's stream (with the target's optional raw usage columns)."""
    return scripted_ops(sc) if sc.steps else generate(sc, columns)


def find_repro(name: str) -> Path:
    """A catalogue id's reproduction (bench/judge/catalogue.py), or scenarios/peer/<name>.toml, by name
    (case-insensitive)."""
    if name.upper() in catalogue.BY_ID:
        return SCENARIOS.parent / catalogue.BY_ID[name.upper()].repro
    for folder in ("repro", "peer"):
        for path in sorted((SCENARIOS / folder).glob("*.toml")):
            if path.stem.lower() == name.lower():
                return path
    known = sorted(p.stem for f in ("repro", "peer") for p in (SCENARIOS / f).glob("*.toml"))
    raise FileNotFoundError(f"no reproduction {name!r}; known: {', '.join(known)}")


def run_scenario(server, req: RunRequest, *, target: Target | None = None, templates: Templates | None = None,
                 on_progress: Callable | None = None, ops: Iterable[Op] | None = None) -> Verdict:
    """Run a request on `server`; write its history, JSON and Markdown; return the verdict. `target`: the
    request's target already resolved (a worker's, from shipped files); `ops`: a recorded history's operations
    to replay instead of the scenario's own."""
    sc = req.scenario.load(req.seed)
    tgt = target or Target.resolve(req.target, req.read_side)
    stem = f"{sc.name}-{Path(req.target).name if '/' in req.target else req.target}-seed{sc.seed}"
    history_path = req.report_dir / f"{stem}.history.jsonl"
    try:
        result = run(server, RunSpec(sc, req.scenario.text, tgt, history_path),
                     ops if ops is not None else ops_for(sc, tgt.usage_columns()),
                     RunHooks(replaying=ops is not None, on_progress=on_progress, templates=templates,
                              judge=checker.for_run(sc, tgt.reads.exact)))
    except NotApplicable as exc:  # its own outcome, with its reason: not a divergence, not the target's failure
        result, inapplicable = None, not_applicable(sc, req.target, str(exc), req.accept)
    except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
        if reachable(server):
            raise
        raise ServerLost(f"the server went away mid-run ({' '.join(str(exc).split())[:160]}); the history so far, "
                         f"replayable up to its last completed operation: {history_path}") from exc
    if result is not None and req.expect:  # judged against them; the run (and its history) is the scenario's own
        own = sc.expectation(req.target)
        result.scenario = dataclasses.replace(sc, expect={**sc.expect, req.target: dataclasses.replace(own,
                                                                                                       **req.expect)})
    v = evaluate(result, req.accept) if result is not None else inapplicable
    v.server, v.read_side = server.backend, tgt.read_side
    v.replay = (req.hint or "rollup-bench replay {history} --target {target}").format(history=history_path,
                                                                                      target=req.target)
    v.report = str(req.report_dir / f"{stem}.md")
    record.write(req.report_dir / f"{stem}.json", v)
    (req.report_dir / f"{stem}.md").write_text(markdown(v))
    return v


def rejudge(history_path: Path, h: History | None = None) -> RunResult:
    """A recorded run judged again from its history and the snapshots beside it, without a database: every
    figure of the verdict comes from the history (what was done, what failed) and the snapshots (what the
    database held at each check). Tick wall times are not recorded, so there are none. `h`: the history, if the
    caller has loaded it already."""
    h = h or History.load(history_path)
    sc = dataclasses.replace(loads(h.header["toml"], source=str(history_path)), seed=h.header["seed"])
    if not snapshots.folder(history_path).is_dir():
        raise FileNotFoundError(f"{history_path}: no snapshots beside it ({snapshots.folder(history_path)}): "
                                "it cannot be judged without a database")
    meta, snaps = snapshots.load(history_path)
    zones = checker.whole_hours(sc, meta["zones"])
    # the read side's claim as recorded; before read sides were files, only `hardened` claimed exact days
    exact = meta.get("read_side_exact", meta["read_side"] == "hardened")
    checks = [checker.judge(as_seen(h.ops, s.op), s, zones, sc.zones.report_days, exact) for s in snaps]
    ops = h.ops
    work = ops.filter(pl.col("f").is_in(WORKLOAD))
    ticks = ops.filter(pl.col("f") == "tick")
    lost = ticks.filter((pl.col("outcome") == "ok") & (pl.col("r") < 0) & pl.col("conn").ne_missing(NEMESIS_CONN))
    lost = lost.with_columns(err=pl.lit(TICK_RETURNED_FAILURE))  # (the nemesis's own ticks fail by its doing)
    failed = pl.concat([ops.filter((pl.col("outcome") == "fail") & pl.col("cause").is_null()), lost]).sort("done")
    failures: dict[str, dict] = {}
    for name, i, at, err in failed.select("f", "i", "at", "err").iter_rows():  # in the order they were recorded
        count_failure(failures, name, i, at, err)
    outcomes = Counter(dict(work.group_by("outcome").len().drop_nulls("outcome").iter_rows()))
    return RunResult(sc, meta["target"], meta["server_version"], Path(history_path), h.sha256,
                     Counter(dict(ops.group_by("f").len().iter_rows())), outcomes, ticks.height,
                     int(ticks.filter(pl.col("outcome") == "ok").get_column("r").clip(0).sum()),
                     ticks.filter((pl.col("outcome") == "fail") | (pl.col("r") < 0)).height, checks,
                     failures=failures)


@dataclass(frozen=True)
class Recorded:
    """A recorded history, to replay: its scenario's text and seed, its sha256, whether the read side has
    changed since (a line to warn with, or None), and its operations."""

    history: History
    text: ScenarioText
    seed: int
    changed: str | None

    @property
    def sha256(self) -> str:
        return self.history.sha256

    @property
    def name(self) -> str:
        return self.history.header.get("scenario", self.text.stem)

    @property
    def span(self) -> tuple[int, int]:
        return span(self.text.load(self.seed))

    def ops(self, keep: set[int] | None = None) -> list[Op]:
        return self.history.replay(keep)


def recorded_run(path: Path, target: str, read_side: str | None) -> Recorded:
    from rollup.readside import changed

    try:
        h = History.load(path)
        text = ScenarioText(h.header["toml"], str(path))
        text.load(h.header["seed"])
    except ScenarioError:
        raise
    except HistoryError as exc:  # an altered, dropped or inserted line, named
        raise BadInput(str(exc)) from None
    except (OSError, ValueError, KeyError, pl.exceptions.PolarsError) as exc:
        raise BadInput(f"{path}: cannot replay: {' '.join(str(exc).split())[:200]}") from None
    said = changed(snapshots.recorded(path), Target.resolve(target, read_side).reads)
    return Recorded(h, text, h.header["seed"], said)


def check_again(path: Path) -> Verdict:
    """`rollup-bench check`: a recorded run judged again, its Markdown report written beside the history. Its hash
    chain is checked first (an altered line is named, not judged); a run that lost its server is 'run interrupted'
    (bad environment), not the target's failure."""
    from bench.judge.interrupted import interruption

    try:
        h = History.load(path)
        if snapshots.folder(path).is_dir() and (why := interruption(h.ops)) is not None:
            raise BadInput(f"{path}: run interrupted: {why}")
        v = evaluate(rejudge(path, h))
        if h.note:
            v.extra["note"] = h.note
    except BadInput:
        raise
    except HistoryError as exc:
        raise BadInput(str(exc)) from None
    except (OSError, ValueError, KeyError, pl.exceptions.PolarsError) as exc:
        raise BadInput(f"{path}: cannot check: {' '.join(str(exc).split())[:200]}") from None
    v.replay = f"rollup-bench replay {path} --target {v.target}"
    v.report = str(path.with_name(path.name.removesuffix(".history.jsonl") + ".check.md"))
    Path(v.report).write_text(markdown(v))
    return v


def span(sc: Scenario) -> tuple[int, int]:
    """A scenario's simulated span, µs: its start and its end."""
    from datetime import timedelta

    from rollup.clock import to_us

    return to_us(sc.start), to_us(sc.start) + sc.duration // timedelta(microseconds=1)
