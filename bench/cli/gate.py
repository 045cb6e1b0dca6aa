"""`rollup-bench repro` and `gate`: the reproductions of the catalogue, and the CI gate over them, the peer
cases and the short generated runs of scenarios/gate/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

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
    pg_list,
    pick,
)
from bench.cli.claim import claim
from bench.cli.errors import fail, guarded
from bench.cli.matrix import run_batch
from bench.cli.show import show_script, show_verdict, summary
from bench.judge.baseline import parse_ids
from rollup.migrations import Target
from rollup.servers import start_server


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

    with guarded():
        names = sorted(p.stem for p in (SCENARIOS / "repro").glob("*.toml")) if ids == ["all"] else ids
        paths = [find_repro(n) for n in names]
        Target.resolve(target, read_side)
        report_dir = claim(report_dir, "repro")
        verdicts = []
        with start_server(pick(pg, (target,), pg_bin), dsn=dsn, pg_bin=pg_bin) as server:
            for path in paths:
                verdicts.append(run_scenario(server, path, target, report_dir, read_side=read_side))
                if not quiet:
                    show_script(verdicts[-1])
                    show_verdict(verdicts[-1])
    summary(verdicts, f"reproductions on {target}")
    if json_file:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(json.dumps({"target": target, "ok": all(v["ok"] for v in verdicts),
                                         "runs": verdicts}, indent=2, default=str))
    raise typer.Exit(0 if all(v["ok"] for v in verdicts) else 1)


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
    report_dir: Annotated[Optional[Path], typer.Option("--report-dir", help="where histories and reports go "
                                                                             "(default: reports/gate)")] = None,
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
    targets: converged everywhere). With no options, what the project's [tool.rollup-bench] says; options
    override it.
    With accepted ids (a baseline), each run is known, new or fixed instead."""
    from bench.orchestrate import project

    with guarded():
        proj = project.load(config, writing_baseline=write_baseline is not None)
        if proj.path:
            err.print(f"project: {proj.path}", highlight=False)
        target = target or proj.target or "reference"
        read_side = read_side or proj.read_side
        Target.resolve(target, read_side)
        pgs = pg_list(pg or proj.server or "embedded", (target,), pg_bin or proj.pg_bin)
        runs = [r for s in proj.scenarios or (project.GATE,)
                for r in (gate_runs() if s == project.GATE else [(Path(s), None)])]
        unknown = sorted(set(proj.expect) - {p.stem for p, _ in runs})
        if unknown:
            raise fail(f"{proj.path}: expect.{unknown[0]}: no scenario named {unknown[0]!r} in the gate's set")
        try:
            accepted = parse_ids([accept]) if accept is not None else proj.accept
        except ValueError as e:
            raise fail(f"--accept: {e}") from None
        folder = claim(report_dir or proj.report_dir or Path("reports/gate"), "gate")  # its own (bench/cli/claim.py)
        run_batch(list(dict.fromkeys(runs)), target, pgs, jobs or proj.jobs, dsn or proj.dsn,
              pg_bin or proj.pg_bin, read_side, folder, "gate",
              json_file, junit, summary_file, expect=proj.expect, accept=accepted,
              strict_accept=strict_accept or proj.strict_accept, write_baseline=write_baseline,
              cluster=cluster, shard=shard)


