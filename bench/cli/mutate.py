"""`rollup-bench mutate`: mutation testing of a target's migrations — how many one-edit mutants of the chain the
gate's generated runs (or the scenarios given) kill. bench/orchestrate/mutate.py scores; this reads the options,
shows progress and writes the report."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from bench.cli.common import (ClusterOpt, DsnOpt, JobsOpt, JsonOpt, PgBinOpt, ReadSideOpt, ShardOpt, app, console, err,
                              server)
from bench.cli.errors import fail, guarded
from bench.cli.show import plain
from bench.orchestrate.progress import Lines


@contextmanager
def rounds(unmutated: int):
    """(advance(killed), next_round(what, mutants)): a live bar in a terminal; in a log (CI) plain lines at least
    every 15 s, runs done of the round and how many killed."""
    if plain():
        with Lines(sys.stdout) as lines:
            def next_round(what: str, total: int) -> None:
                lines.started(f"mutate: {what}", total, afresh=True)

            next_round("the unmutated chain", unmutated)
            yield (lambda killed: lines.finished("", not killed)), next_round
        return
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=err, transient=True) as progress:
        bar = progress.add_task("the unmutated chain", total=unmutated)
        yield (lambda killed: progress.advance(bar)), (
            lambda what, total: progress.reset(bar, total=total, description=what))


def default_runs():
    """The gate's generated runs at the gate's seeds, one of each scenario first (the likeliest to differ in
    what they kill), then the other seeds."""
    from bench.cli.gate import GENERATED
    from bench.orchestrate.execute import SCENARIOS
    from bench.orchestrate.mutate import Run

    queues = [[Run(SCENARIOS / "gate" / f"{name}.toml", seed) for seed in seeds] for name, seeds in GENERATED.items()]
    out = []
    while any(queues):
        out += [q.pop(0) for q in queues if q]
    return out


def _list(values: list[str] | None) -> list[str]:
    return [p.strip() for v in values or [] for p in v.split(",") if p.strip()]


@app.command()
def mutate(
    target: Annotated[str, typer.Option("--target", help="reference, hardened, or migration directories (a,b)")]
    = "hardened",
    scenarios: Annotated[Optional[list[str]], typer.Option(
        "--scenarios", help="scenario files to run each mutant on, comma-separated or repeated (default: the "
                            "gate's generated runs at the gate's seeds)")] = None,
    files: Annotated[Optional[list[str]], typer.Option(
        "--files", help="only these migrations: numbers, ranges (105-114) or globs, comma-separated")] = None,
    operators: Annotated[Optional[list[str]], typer.Option(
        "--operators", help="only these operators, comma-separated (see --list)")] = None,
    ids: Annotated[Optional[list[str]], typer.Option(
        "--ids", help="only these mutants, by id (as the report names them), comma-separated")] = None,
    sample: Annotated[Optional[int], typer.Option("--sample", help="score N mutants drawn with --seed")] = None,
    seed: Annotated[int, typer.Option("--seed", help="the seed of --sample")] = 1,
    equivalents: Annotated[Optional[Path], typer.Option(
        "--equivalents", help="a TOML file of [[equivalent]] id and reason: not run, not counted")] = None,
    min_score: Annotated[Optional[float], typer.Option(
        "--min-score", help="exit 1 when the score is below this (0–1, or a percentage like 80)")] = None,
    list_only: Annotated[bool, typer.Option("--list", help="print the mutants and their diffs; run nothing")] = False,
    pg: Annotated[str, typer.Option("--pg", help="PostgreSQL backend")] = "embedded",
    dsn: DsnOpt = None,
    pg_bin: PgBinOpt = None,
    read_side: ReadSideOpt = None,
    jobs: JobsOpt = None,
    cluster: ClusterOpt = None,
    shard: ShardOpt = None,
    report_dir: Annotated[Path, typer.Option("--report-dir", help="where the report (mutation.json, .md, .html) "
                                                                  "and the runs' files go")] = Path("reports/mutate"),
    json_file: JsonOpt = None,
    keep_runs: Annotated[bool, typer.Option("--keep-runs", help="keep the histories of killed mutants' runs "
                                                                "too (default: only survivors')")] = False,
    resume: Annotated[bool, typer.Option("--resume", help="go on from the --report-dir's progress.json (a run "
                                                          "stopped part-way): the rounds it finished are not "
                                                          "run again")] = False,
) -> None:
    """Mutation testing: one-edit mutants of the target's migrations (comparisons, conjuncts, constants, trigger
    events and timing, locks, statements of function bodies …), each run on the gate's generated runs until one
    kills it. Prints the score per operator and every survivor with its diff."""
    from bench.cli import mutate_report
    from bench.orchestrate.matrix import default_jobs
    from bench.orchestrate import mutate as mut
    from bench.orchestrate.mutate import OPERATOR_NAMES, READ_SIDES, MutateError, Run, Scoring, Target
    from bench.orchestrate.mutate import sample as draw
    from bench.orchestrate.shards import parse_shard

    with guarded():
        try:
            tgt = Target.resolve(target, read_side)
            ops = set(_list(operators)) or None
            if ops and ops - set(OPERATOR_NAMES):
                raise MutateError(f"--operators: unknown {sorted(ops - set(OPERATOR_NAMES))[0]!r}; known: "
                                  f"{', '.join(OPERATOR_NAMES)}")
            if min_score is not None and not 0 <= min_score <= 100:
                raise MutateError("--min-score must be between 0 and 1 (or a percentage up to 100)")
            part = parse_shard(shard) if shard else None
            found, texts, malformed = mut.mutants_of(tgt, _list(files) or None, ops)
            if ids:
                wanted = _list(ids)
                missing = sorted(set(wanted) - {m.id for m in found})
                if missing:
                    raise MutateError(f"--ids: no mutant {missing[0]!r} in the selection (see --list)")
                found = [m for m in found if m.id in wanted]
            known = mut.parse_equivalents(equivalents) if equivalents else {}
            runs = [Run(Path(p)) for p in _list(scenarios)] or default_runs()
            for r in runs:
                if not r.scenario.is_file():
                    raise MutateError(f"--scenarios: {r.scenario} is not a file")
        except ValueError as exc:
            raise fail(str(exc)) from None
        chosen = draw(found, sample, seed)
        if part:
            chosen = [chosen[i] for i in part.indexes(len(chosen))]
        err.print(f"{len(chosen)} mutant(s) of {len(found)} from {len(texts)} file(s) "
                  f"({malformed} proposed edit(s) did not parse)", highlight=False)
        if list_only:
            for m in chosen:
                console.print(f"[bold]{m.id}[/] {m.note}", highlight=False, soft_wrap=True)
                console.print(m.diff(texts[m.file]), highlight=False, markup=False, soft_wrap=True)
            raise typer.Exit(0)
        workers = jobs or default_jobs()
        spec = server(pg, dsn, pg_bin, (target,))
        side = read_side or tgt.side or READ_SIDES.get(tgt.name, "faithful")
        with rounds(len(runs)) as (advance, next_round):
            def batch(requests):
                return mut.run_batch(requests, workers=workers, server=spec, read_side=side,
                                     cluster=cluster, on_done=lambda r, v: advance(not v.get("ok", True)))

            def on_round(label: str, alive: int, n: int) -> None:
                next_round(f"run {n} ({label}) on {alive} mutant(s)", alive)

            scoring = Scoring(tgt, chosen, texts, runs, report_dir, batch, known, on_round, keep_runs, resume=resume)
            try:
                result = scoring.score()
            except MutateError as exc:
                raise fail(str(exc)) from None
        if part:
            result["shard"] = {"k": part.k, "n": part.n}
        result["selection"] = {"files": _list(files), "operators": sorted(ops or []),
                               "ids": _list(ids), "sample": sample,
                               "seed": seed, "generated": len(found), "malformed": malformed}
        show(result)
        for path in mutate_report.write(result, report_dir, json_file):
            err.print(f"wrote {path}", highlight=False)
    below(result, min_score)


@app.command("mutate-merge")
def mutate_merge(
    files: Annotated[list[Path], typer.Argument(help="the JSON reports of a mutation run's shards (--shard K/N)")],
    report_dir: Annotated[Optional[Path], typer.Option("--report-dir", help="write mutation.json, .md and "
                                                                            ".html here")] = None,
    json_file: JsonOpt = None,
    min_score: Annotated[Optional[float], typer.Option("--min-score", help="exit 1 below this (0–1 or %)")] = None,
) -> None:
    """Join the shards of one mutation run into its report: the score over every mutant, the survivors."""
    import json

    from bench.cli import mutate_report
    from bench.orchestrate.mutate import MutateError, merge

    try:
        result = merge([json.loads(f.read_text()) for f in files])
    except (OSError, ValueError, KeyError) as exc:
        raise fail(str(exc) if isinstance(exc, MutateError) else f"not a mutation report: {exc}") from None
    show(result)
    for path in mutate_report.write(result, report_dir, json_file):
        err.print(f"wrote {path}", highlight=False)
    below(result, min_score)


def below(result: dict, min_score: float | None) -> None:
    """Exit 1 when the score is under --min-score (a fraction, or a percentage above 1)."""
    if min_score is None:
        return
    floor = min_score / 100 if min_score > 1 else min_score
    score = result["total"]["score"]
    if score is None or score < floor:
        err.print(f"error: mutation score {'—' if score is None else f'{score:.1%}'} is below --min-score "
                  f"{floor:.1%}", highlight=False)
        raise typer.Exit(1)


def show(result: dict) -> None:
    from bench.cli import mutate_report

    console.print(mutate_report.table(result))
    for m in mutate_report.survivors(result):
        console.print(f"[yellow]SURVIVED[/] {m['id']} — {m['note']} (passed {', '.join(m['passed'])})",
                      highlight=False, soft_wrap=True)
        console.print(m["diff"], highlight=False, markup=False, soft_wrap=True)
    for why, ids in mutate_report.unreached(result).items():
        console.print(f"UNREACHED {len(ids)}: {why}", highlight=False, soft_wrap=True)
    if result.get("reach_contradicted"):
        err.print("warning: " + mutate_report.CONTRADICTED + ", ".join(result["reach_contradicted"]), highlight=False)
    for x in result.get("equivalents_unknown", []):
        err.print(f"warning: equivalent {x} names no mutant of this run (a changed file, or another selection)",
                  highlight=False)
    console.print(mutate_report.headline(result), highlight=False)
