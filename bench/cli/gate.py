"""`rollup-bench repro` and `gate`: the reproductions of the catalogue, and the CI gate over them, the peer
cases and the short generated runs of scenarios/gate/."""

from __future__ import annotations

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
    err,
    outputs,
    server,
    servers,
)
from bench.cli.claim import claim
from bench.cli.errors import fail, guarded
from bench.cli.show import show_script, show_verdict, summary
from bench.orchestrate.records import parse_ids, write
from bench.orchestrate.shards import parse_shard
from bench.orchestrate.targets import validate


@app.command()
def repro(
    ids: Annotated[list[str], typer.Argument(help="catalogue ids (B1 … B13, L1), or 'all'")],
    target: TargetOpt = "reference",
    pg: PgOpt = "embedded",
    dsn: DsnOpt = None,
    pg_bin: PgBinOpt = None,
    report_dir: ReportDirOpt = Path("reports/repro"),
    json_file: JsonOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="only the summary table")] = False,
    read_side: ReadSideOpt = None,
) -> None:
    """Run reproductions of the known divergences: each shows its signature on a faithful target and converges
    on a fixed one. Prints the sequence and the differing keys or report rows."""
    from bench.orchestrate.execute import SCENARIOS, find_repro, run_scenario
    from bench.orchestrate.request import RunRequest, ScenarioText

    with guarded():
        names = sorted(p.stem for p in (SCENARIOS / "repro").glob("*.toml")) if ids == ["all"] else ids
        paths = [find_repro(n) for n in names]
        validate(target, read_side)
        spec = server(pg, dsn, pg_bin, (target,))
        report_dir = claim(report_dir, "repro")
        verdicts = []
        with spec.start() as db_server:
            for path in paths:
                req = RunRequest(ScenarioText.read(path), target, server=spec, read_side=read_side,
                                 report_dir=report_dir)
                verdicts.append(run_scenario(db_server, req))
                if not quiet:
                    show_script(verdicts[-1])
                    show_verdict(verdicts[-1])
    summary(verdicts, f"reproductions on {target}")
    if json_file:
        write(json_file, {"target": target, "ok": all(v.ok for v in verdicts), "runs": verdicts})
    raise typer.Exit(0 if all(v.ok for v in verdicts) else 1)


# The gate's generated runs (scenarios/gate/), each on its seeds (None: the file's own): steady's work in short
# runs that differ in zones, sessions and edges, production's faults by construction, and one long run.
GENERATED = {"gate-steady": (1, 2, 3, 4), "gate-pause": (None,), "gate-faults": (1, 2)}


def gate_runs() -> list[tuple[Path, int | None]]:
    """The generated runs first (the longest: a parallel gate starts them first), then every reproduction and
    peer case."""
    from bench.orchestrate.execute import SCENARIOS

    return [*((SCENARIOS / "gate" / f"{name}.toml", seed) for name, seeds in GENERATED.items() for seed in seeds),
            *((p, None) for folder in ("repro", "peer") for p in sorted((SCENARIOS / folder).glob("*.toml")))]


@app.command()
def gate(
    target: Annotated[Optional[str], typer.Option("--target", help="reference, hardened, or migration directories "
                                                                   "(a,b); default: the project's, else reference")] = None,
    pg: Annotated[Optional[str], typer.Option("--pg", help="PostgreSQL backend(s), comma-separated for a matrix "
                                                           "(default: the project's, else embedded)")] = None,
    dsn: DsnOpt = None,
    pg_bin: PgBinOpt = None,
    read_side: ReadSideOpt = None,
    jobs: JobsOpt = None,
    report_dir: Annotated[Optional[Path], typer.Option(
        "--report-dir", help="where histories and reports go (default: the project's, else reports/gate)")] = None,
    json_file: JsonOpt = None,
    junit: JunitOpt = None,
    summary_file: SummaryOpt = None,
    config: ConfigOpt = None,
    accept: Annotated[Optional[str], typer.Option(
        "--accept", help="catalogue ids the chain is known to show, comma-separated ('none': nothing): every "
                         "run's divergence is judged against them, and only a new one fails (default: the "
                         "project's accept and baseline)")] = None,
    strict_accept: Annotated[bool, typer.Option("--strict-accept", help="fail when an accepted id no run shows "
                                                                        "any more (default: a warning)")] = False,
    write_baseline: Annotated[Optional[Path], typer.Option(
        "--write-baseline", help="record the ids the chain shows now in FILE (accept = [...]), for the project's "
                                 "baseline key")] = None,
    cluster: ClusterOpt = None,
    shard: ShardOpt = None,
) -> None:
    """The CI gate: short generated runs with production's faults, every reproduction and every consistent
    peer case, each against its expectation for this target (reference: every id reproduced; hardened and other
    targets: converged everywhere). With no options, what the project's \\[tool.rollup-bench] says; options
    override it.
    With accepted ids (a baseline), each run is known, new or fixed instead."""
    from bench.orchestrate import project
    from bench.orchestrate.matrix import BatchSpec, Judging, default_jobs
    from bench.orchestrate.request import ScenarioText

    out = outputs(json_file, junit, summary_file)
    with guarded():
        proj = project.current(config, writing_baseline=write_baseline is not None)
        if proj.path:
            err.print(f"project: {proj.path}", highlight=False)
        target = target or proj.target or "reference"
        read_side = read_side or proj.read_side
        validate(target, read_side)
        specs = servers(pg or proj.server or "embedded", dsn or proj.dsn, pg_bin or proj.pg_bin, (target,))
        runs = [r for s in proj.scenarios or (project.GATE,)
                for r in (gate_runs() if s == project.GATE else [(Path(s), None)])]
        unknown = sorted(set(proj.expect) - {p.stem for p, _ in runs})
        if unknown:
            raise fail(f"{proj.path}: expect.{unknown[0]}: no scenario named {unknown[0]!r} in the gate's set")
        try:
            accepted = parse_ids([accept]) if accept is not None else proj.accept
            part = parse_shard(shard) if shard else None
        except ValueError as e:
            raise fail(f"--accept: {e}" if "--shard" not in str(e) else str(e)) from None
        texts = {p: ScenarioText.read(p) for p, _ in runs}
        spec = BatchSpec([(texts[p], s) for p, s in dict.fromkeys(runs)], target, specs, read_side,
                         claim(report_dir or proj.report_dir or Path("reports/gate"), "gate"), "gate",
                         judging=Judging(proj.expect, accepted, strict_accept or proj.strict_accept,
                                         write_baseline is not None), shard=part)
        matrix.execute(spec, jobs or proj.jobs or default_jobs(), cluster, out, write_baseline)
