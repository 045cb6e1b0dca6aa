"""`rollup-bench run`, `replay` and `check`: one scenario (or a seed sweep), a recorded history again, and a
recorded run judged again without a database."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Optional

import typer

from bench.cli import matrix
from bench.cli.common import (
    ClusterOpt,
    ConfigOpt,
    DsnOpt,
    JobsOpt,
    JsonOpt,
    JunitOpt,
    PgBinOpt,
    PgOpt,
    ReadSideOpt,
    ReportDirOpt,
    ShardOpt,
    SummaryOpt,
    TargetOpt,
    app,
    console,
    err,
    outputs,
    server,
    servers,
    side_flag,
)
from bench.cli.claim import claim, writable_file
from bench.cli.errors import fail, guarded
from bench.cli.show import progress_bar, show_verdict, span_of
from bench.orchestrate.records import write
from bench.orchestrate.request import RunRequest
from bench.orchestrate.shards import parse_shard
from bench.orchestrate.targets import validate


@app.command("run")
def run_cmd(
    scenario: Annotated[Path, typer.Argument(help="scenario TOML file")],
    target: Annotated[Optional[str], typer.Option("--target", help="reference, hardened, or migration directories "
                                                                   "(a,b); default: the project's, else "
                                                                   "reference")] = None,
    seed: Annotated[Optional[int], typer.Option("--seed", help="override the scenario's seed")] = None,
    seeds: Annotated[Optional[str], typer.Option("--seeds", help="a seed sweep: 1-200, or 1,5,9-12")] = None,
    jobs: JobsOpt = None,
    pg: Annotated[Optional[str], typer.Option("--pg", help="PostgreSQL backend(s), comma-separated for a matrix "
                                                           "(default: the project's, else embedded)")] = None,
    dsn: DsnOpt = None,
    pg_bin: PgBinOpt = None,
    read_side: ReadSideOpt = None,
    report_dir: Annotated[Optional[Path], typer.Option("--report-dir", help="where the history and reports are "
                                                                             "written (default: the project's, "
                                                                             "else reports)")] = None,
    json_file: JsonOpt = None,
    junit: JunitOpt = None,
    summary_file: SummaryOpt = None,
    cluster: ClusterOpt = None,
    shard: ShardOpt = None,
    until_failure: Annotated[bool, typer.Option("--until-failure", help="with --seeds: stop at the first failing "
                                                "seed; print its replay and trimmed reproduction")] = False,
    config: ConfigOpt = None,
) -> None:
    """Generate a scenario's workload (or play its script), apply it to a target, and judge the rollup. With
    --seeds, once per seed (in parallel with --jobs, or on a Dask --cluster), ending with the failing seeds and
    their replay commands. With no options, what the project's \\[tool.rollup-bench] says (target, read side,
    server, report folder, jobs, the scenario's expectation); options override it."""
    from bench.orchestrate import project
    from bench.orchestrate.batch import parse_seeds
    from bench.orchestrate.execute import run_scenario
    from bench.orchestrate.matrix import REPLAY, BatchSpec, Judging, default_jobs
    from bench.orchestrate.request import ScenarioText

    if seed is not None and seeds is not None:
        raise fail("--seed and --seeds: give one or the other")
    if until_failure and seeds is None:
        raise fail("--until-failure needs --seeds (the seeds to search)")
    out = outputs(json_file, junit, summary_file)
    with guarded():
        proj = project.current(config)
        target = target or proj.target or "reference"
        read_side = read_side or proj.read_side
        report_dir = claim(report_dir or proj.report_dir or Path("reports"), "run")  # its own (bench/cli/claim.py)
        writable_file(json_file, "--json")
        text = ScenarioText.read(scenario)
        sc = text.load()
        validate(target, read_side)
        specs = servers(pg or proj.server or "embedded", dsn or proj.dsn, pg_bin or proj.pg_bin, (target,))
        expect = proj.expect.get(sc.name) or proj.expect.get(scenario.stem)
        if seeds is not None or len(specs) > 1 or cluster or shard:
            try:
                sweep = parse_seeds(seeds) if seeds is not None else [seed if seed is not None else sc.seed]
                part = parse_shard(shard) if shard else None
            except ValueError as exc:
                raise fail(str(exc))
            spec = BatchSpec([(text, s) for s in sweep], target, specs, read_side, report_dir,
                             f"{sc.name} seeds {seeds}" if seeds else sc.name,
                             REPLAY + f"   (or: rollup-bench run {scenario} --target {{target}}{{flags}} "
                                      "--seed {seed})",
                             Judging({scenario.stem: expect} if expect else {}), part, until_failure)
            matrix.execute(spec, jobs or proj.jobs or default_jobs(), cluster, out)
        if seed is not None:
            sc = dataclasses.replace(sc, seed=seed)
        hint = (f"rollup-bench replay {{history}} --target {{target}}{side_flag(read_side)}   (or: rollup-bench run "
                f"{scenario} --target {{target}}{side_flag(read_side)} --seed {sc.seed})")
        req = RunRequest(text, target, seed, specs[0], read_side, report_dir, expect, hint=hint)
        with specs[0].start() as server, progress_bar(f"{sc.name} on {target}", span_of(sc)) as on_progress:
            v = run_scenario(server, req, on_progress=on_progress)
    if out.json:
        write(out.json, v)
    show_verdict(v)
    matrix.annotate([v], sc.name)
    matrix.write_ci([v], out, sc.name)
    raise typer.Exit(0 if v.ok else 1)


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
    from bench.orchestrate.execute import recorded_run, run_scenario

    try:
        keep = {int(x) for x in only.split(",") if x.strip()} if only is not None else None
    except ValueError:
        raise fail(f"--only {only!r}: expected operation indexes, comma-separated")
    with guarded():
        rec = recorded_run(history, target, read_side)
        if rec.history.note:
            err.print(f"note: {rec.history.note}", highlight=False, soft_wrap=True)
        report_dir = claim(report_dir, "replay")
        if rec.changed:
            err.print(f"warning: read side: {rec.changed}", highlight=False, soft_wrap=True)
        req = RunRequest(rec.text, target, rec.seed, server(pg, dsn, pg_bin, (target,)), read_side, report_dir)
        with req.server.start() as db_server, progress_bar(f"{rec.name} on {target}", rec.span) as on_progress:
            v = run_scenario(db_server, req, ops=rec.ops(keep), on_progress=on_progress)
    if json_file:
        write(json_file, v)
    show_verdict(v)
    same = v.history_sha256 == rec.sha256
    if keep is None:
        console.print(f"replayed history {'matches' if same else 'DIFFERS from'} the original (sha256 "
                      f"{rec.sha256[:16]}…)", highlight=False)
    raise typer.Exit(0 if v.ok and (same or keep is not None) else 1)  # a replay that differs is no replay


@app.command()
def check(
    history: Annotated[Path, typer.Argument(help="a history file written by run, replay, repro or gate")],
    json_file: JsonOpt = None,
) -> None:
    """Judge a recorded run again, without a database: from its history and the snapshots kept beside it
    (<history>.checks/). A checker fixed since the run gives its new verdict on the same evidence."""
    from bench.orchestrate.execute import check_again

    with guarded():
        v = check_again(history)
    if note := v.extra.pop("note", None):  # a history from before the hash chain: read, but not verifiable
        err.print(f"note: {note}", highlight=False, soft_wrap=True)
    if json_file:
        write(json_file, v)
    show_verdict(v)
    raise typer.Exit(0 if v.ok else 1)
