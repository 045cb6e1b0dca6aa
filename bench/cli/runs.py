"""`rollup-bench run`, `replay` and `check`: one scenario (or a seed sweep), a recorded history again, and a
recorded run judged again without a database."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from bench.cli.common import (
    ClusterOpt,
    DsnOpt,
    JobsOpt,
    JsonOpt,
    JunitOpt,
    PgBinOpt,
    PgListOpt,
    PgOpt,
    ReadSideOpt,
    ReportDirOpt,
    ShardOpt,
    SummaryOpt,
    TargetOpt,
    app,
    console,
    err,
    pg_list,
    pick,
    side_flag,
)
from bench.cli.claim import claim, writable_file
from bench.cli.errors import fail, guarded
from bench.cli.matrix import REPLAY, run_batch, write_ci
from bench.cli.show import progress_bar, show_verdict
from rollup.migrations import Target
from rollup.readside import changed
from rollup.servers import start_server


@app.command("run")
def run_cmd(
    scenario: Annotated[Path, typer.Argument(help="scenario TOML file")],
    target: TargetOpt = "reference",
    seed: Annotated[Optional[int], typer.Option("--seed", help="override the scenario's seed")] = None,
    seeds: Annotated[Optional[str], typer.Option("--seeds", help="a seed sweep: 1-200, or 1,5,9-12")] = None,
    jobs: JobsOpt = None,
    pg: PgListOpt = "embedded",
    dsn: DsnOpt = None,
    pg_bin: PgBinOpt = None,
    read_side: ReadSideOpt = None,
    report_dir: ReportDirOpt = Path("reports"),
    json_file: JsonOpt = None,
    junit: JunitOpt = None,
    summary_file: SummaryOpt = None,
    cluster: ClusterOpt = None,
    shard: ShardOpt = None,
    until_failure: Annotated[bool, typer.Option("--until-failure", help="with --seeds: stop at the first failing "
                                                "seed; print its replay and trimmed reproduction")] = False,
) -> None:
    """Generate a scenario's workload (or play its script), apply it to a target, and judge the rollup. With
    --seeds, once per seed (in parallel with --jobs, or on a Dask --cluster), ending with the failing seeds and
    their replay commands."""
    from bench.orchestrate.batch import parse_seeds
    from bench.orchestrate.execute import run_scenario
    from bench.workload.scenario import load

    if seed is not None and seeds is not None:
        raise fail("--seed and --seeds: give one or the other")
    if until_failure and seeds is None:
        raise fail("--until-failure needs --seeds (the seeds to search)")
    with guarded():
        sc = load(scenario)
        Target.resolve(target, read_side)
        pgs = pg_list(pg, (target,), pg_bin)
        writable_file(json_file, "--json")
        report_dir = claim(report_dir, "run")  # a folder of its own (bench/cli/claim.py)
        if seeds is not None or len(pgs) > 1 or cluster or shard:
            try:
                sweep = parse_seeds(seeds) if seeds is not None else [seed if seed is not None else sc.seed]
            except ValueError as exc:
                raise fail(str(exc))
            run_batch([(scenario, s) for s in sweep], target, pgs, jobs, dsn, pg_bin, read_side, report_dir,
                  f"{sc.name} seeds {seeds}" if seeds else sc.name, json_file, junit, summary_file,
                  hint=REPLAY + f"   (or: rollup-bench run {scenario} --target {{target}}{{flags}} --seed {{seed}})",
                  cluster=cluster, shard=shard, until_failure=until_failure)
        if seed is not None:
            sc = dataclasses.replace(sc, seed=seed)
        hint = (f"rollup-bench replay {{history}} --target {{target}}{side_flag(read_side)}   (or: rollup-bench run "
                f"{scenario} --target {{target}}{side_flag(read_side)} --seed {sc.seed})")
        with start_server(pgs[0], dsn=dsn, pg_bin=pg_bin) as server, progress_bar(sc, target) as on_progress:
            v = run_scenario(server, scenario, target, report_dir, sc=sc, text=scenario.read_text(), hint=hint,
                             on_progress=on_progress, json_file=json_file, read_side=read_side)
    show_verdict(v)
    if junit or summary_file:
        write_ci([v], junit, summary_file, sc.name)
    raise typer.Exit(0 if v["ok"] else 1)


@app.command()
def replay(
    history: Annotated[Path, typer.Argument(help="a history file written by run")],
    target: TargetOpt = "reference",
    pg: PgOpt = "embedded",
    dsn: DsnOpt = None,
    pg_bin: PgBinOpt = None,
    report_dir: ReportDirOpt = Path("reports/replay"),
    json_file: JsonOpt = None,
    only: Annotated[Optional[str], typer.Option("--only", help="keep just these writes (op indexes, comma-separated): "
                                                 "a trimmed replay; entities, ticks, faults and checks all stay")] = None,
    read_side: ReadSideOpt = None,
) -> None:
    """Re-run a recorded history exactly (operations, ticks, faults and checks at their simulated times)."""
    import polars as pl

    from bench.orchestrate.execute import run_scenario
    from bench.drive.chain import HistoryError
    from bench.drive.history import History
    from bench.workload.scenario import ScenarioError, loads

    try:
        keep = {int(x) for x in only.split(",") if x.strip()} if only is not None else None
    except ValueError:
        raise fail(f"--only {only!r}: expected operation indexes, comma-separated")
    try:
        h = History.load(history)
        sc = dataclasses.replace(loads(h.header["toml"], source=str(history)), seed=h.header["seed"])
    except (ScenarioError, HistoryError) as exc:
        raise fail(str(exc))
    except (OSError, ValueError, KeyError, pl.exceptions.PolarsError) as exc:
        raise fail(f"{history}: cannot replay: {' '.join(str(exc).split())[:200]}")
    if h.note:
        err.print(f"note: {h.note}", highlight=False, soft_wrap=True)
    with guarded():
        from bench.drive.snapshots import recorded

        if said := changed(recorded(history), Target.resolve(target, read_side).reads):
            err.print(f"warning: read side: {said}", highlight=False, soft_wrap=True)
        report_dir = claim(report_dir, "replay")
        with start_server(pick(pg, (target,), pg_bin), dsn=dsn, pg_bin=pg_bin) as server, \
                progress_bar(sc, target) as on_progress:
            v = run_scenario(server, None, target, report_dir, sc=sc, text=h.header["toml"], ops=h.replay(keep),
                             replaying=True, on_progress=on_progress, json_file=json_file, read_side=read_side)
    show_verdict(v)
    same = v["history_sha256"] == h.sha256
    if keep is None:
        console.print(f"replayed history {'matches' if same else 'DIFFERS from'} the original (sha256 "
                      f"{h.sha256[:16]}…)", highlight=False)
    raise typer.Exit(0 if v["ok"] and (same or keep is not None) else 1)  # a replay that differs is no replay


@app.command()
def check(
    history: Annotated[Path, typer.Argument(help="a history file written by run, replay, repro or gate")],
    json_file: JsonOpt = None,
) -> None:
    """Judge a recorded run again, without a database: from its history and the snapshots kept beside it
    (<history>.checks/). A checker fixed since the run gives its new verdict on the same evidence."""
    import polars as pl

    from bench.drive import snapshots
    from bench.drive.chain import HistoryError
    from bench.drive.history import History
    from bench.judge.interrupted import interruption
    from bench.judge.verdict import evaluate, markdown
    from bench.orchestrate.execute import rejudge

    with guarded():
        try:
            h = History.load(history)  # its chain checked first: an altered line is named, not judged
            if h.note:
                err.print(f"note: {h.note}", highlight=False, soft_wrap=True)
            if snapshots.folder(history).is_dir() and (why := interruption(h.ops)) is not None:  # not the target's
                raise fail(f"{history}: run interrupted: {why}")
            v = evaluate(rejudge(history))
        except HistoryError as exc:
            raise fail(str(exc))
        except (OSError, ValueError, KeyError, pl.exceptions.PolarsError) as exc:
            raise fail(f"{history}: cannot check: {' '.join(str(exc).split())[:200]}")
    v["replay"] = f"rollup-bench replay {history} --target {v['target']}"
    v["report"] = str(history.with_name(history.name.removesuffix(".history.jsonl") + ".check.md"))
    Path(v["report"]).write_text(markdown(v))
    if json_file:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(json.dumps(v, indent=2, default=str))
    show_verdict(v)
    raise typer.Exit(0 if v["ok"] else 1)


