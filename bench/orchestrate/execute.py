"""One scenario run end to end — operations, run, verdict, files — shared by run, replay, repro and gate."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import polars as pl
import psycopg

from bench.orchestrate.errors import ServerLost
from bench.drive import snapshots
from bench.drive.history import TICK_RETURNED_FAILURE, History, as_seen, count_failure
from bench.drive.runner import NotApplicable, RunResult, run, scripted_ops
from bench.judge import checker
from bench.judge.verdict import evaluate, markdown, not_applicable
from bench.workload.faults import NEMESIS_CONN
from bench.workload.generator import generate
from bench.workload.ops import WORKLOAD, Op
from bench.workload.scenario import Scenario, load, loads
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
    """scenarios/repro/<ID>.toml, or scenarios/peer/<name>.toml, by name (case-insensitive)."""
    for folder in ("repro", "peer"):
        for path in sorted((SCENARIOS / folder).glob("*.toml")):
            if path.stem.lower() == name.lower():
                return path
    known = sorted(p.stem for f in ("repro", "peer") for p in (SCENARIOS / f).glob("*.toml"))
    raise FileNotFoundError(f"no reproduction {name!r}; known: {', '.join(known)}")


def run_scenario(server, path: Path | None, target: str, report_dir: Path, *, sc: Scenario | None = None,
                 text: str | None = None, ops: Iterable[Op] | None = None, replaying: bool = False,
                 hint: str = "", on_progress: Callable | None = None, json_file: Path | None = None,
                 templates: Templates | None = None, read_side: str | None = None,
                 expect: dict | None = None, accept: tuple[str, ...] | None = None) -> dict:
    """Run a scenario (by path, or given) on `target`; write its history, JSON and Markdown; return the verdict.
    `expect`: expectation fields that override the scenario's for this target (a project's configuration);
    `accept`: a baseline of catalogue ids to judge the divergence against instead (bench/judge/baseline.py)."""
    if sc is None:
        sc, text = load(path), path.read_text()
    tgt = Target.resolve(target, read_side)
    stem = f"{sc.name}-{Path(target).name if '/' in target else target}-seed{sc.seed}"
    history_path = report_dir / f"{stem}.history.jsonl"
    try:
        result = run(server, sc, text, tgt, history_path, ops if ops is not None else ops_for(sc, tgt.usage_columns()),
                     replaying,
                     on_progress, templates, judge=checker.for_run(sc, tgt.reads.exact))
    except NotApplicable as exc:  # its own outcome, with its reason: not a divergence, not the target's failure
        result, inapplicable = None, not_applicable(sc, target, str(exc), accept)
    except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
        if reachable(server):
            raise
        raise ServerLost(f"the server went away mid-run ({' '.join(str(exc).split())[:160]}); the history so far, "
                         f"replayable up to its last completed operation: {history_path}") from exc
    if result is not None and expect:  # judged against them; the run (and its history) is the scenario's own
        own = sc.expectation(target)
        result.scenario = dataclasses.replace(sc, expect={**sc.expect, target: dataclasses.replace(own, **expect)})
    v = evaluate(result, accept) if result is not None else inapplicable
    v["server"], v["read_side"] = server.backend, tgt.read_side
    v["replay"] = (hint or "rollup-bench replay {history} --target {target}").format(history=history_path,
                                                                                    target=target)
    report_dir.mkdir(parents=True, exist_ok=True)
    v["report"] = str(report_dir / f"{stem}.md")
    (report_dir / f"{stem}.json").write_text(json.dumps(v, indent=2, default=str))
    (report_dir / f"{stem}.md").write_text(markdown(v))
    if json_file:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(json.dumps(v, indent=2, default=str))
    return v


def rejudge(history_path: Path) -> RunResult:
    """A recorded run judged again from its history and the snapshots beside it, without a database: every
    figure of the verdict comes from the history (what was done, what failed) and the snapshots (what the
    database held at each check). Tick wall times are not recorded, so there are none."""
    h = History.load(history_path)
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
