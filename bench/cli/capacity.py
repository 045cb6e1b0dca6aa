"""`rollup-bench capacity` and `capacity-diff`: capacity planning, and two of its results compared."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from bench.cli.common import DsnOpt, JsonOpt, PgBinOpt, app, console, err, server
from bench.cli.claim import claim
from bench.cli.capacity_plan import plans_of, print_plans, print_verdict
from bench.cli.errors import fail, guarded
from bench.orchestrate.targets import validate
from rollup.extensions import AUTO
from rollup.servers import BACKENDS


@app.command()
def capacity(
    spec_file: Annotated[Path, typer.Argument(metavar="SPEC", help="capacity spec (scenarios/capacity/*.toml)")],
    target: Annotated[Optional[list[str]], typer.Option("--target", help="a target to measure (repeatable)")] = None,
    pg: Annotated[str, typer.Option("--pg", help="servers (a,b): embedded,local,dsn,docker,auto")] = "embedded",
    dsn: DsnOpt = None,
    pg_bin: PgBinOpt = None,
    baseline: Annotated[Optional[str], typer.Option("--baseline", help="the target budgets are ratios to")] = None,
    report_dir: Annotated[Optional[Path], typer.Option("--report-dir", help="default reports/capacity/<spec>-<targets>")] = None,
    json_file: JsonOpt = None,
    quick: Annotated[bool, typer.Option("--quick", help="the smallest history and half of each sweep's points")] = False,
) -> None:
    """Capacity planning: tick latency against dirty keys and history size, the sustainable write rate, the
    incremental/full crossover, writer cost and queue growth under faults; a self-contained HTML report, and
    budgets against a baseline measured in the same run (exit 1 over budget)."""
    import polars as pl

    from bench.orchestrate.capacity import CapacityRun, Reach, judge_budget, load_spec, summary_table, write_report
    from bench.orchestrate.progress import Lines

    targets = list(dict.fromkeys(target or ["reference"]))
    pgs = [p.strip() for p in pg.split(",") if p.strip()]
    with guarded():
        spec = load_spec(spec_file)
        if quick:
            spec = spec.quick()
        for p in pgs:
            if p not in (*BACKENDS, AUTO):
                raise fail(f"--pg {p!r}: expected one of {', '.join(BACKENDS)}, {AUTO}")
        if baseline and baseline not in targets:
            targets.insert(0, baseline)
        for t in targets:
            validate(t)
        if spec.budget and not baseline:  # every budget is a paired ratio: judged against nothing, none would fail
            raise fail("the spec has a [budget]: name the --baseline target its paired ratios are to "
                       "(e.g. --baseline reference)")
        pgs = list(dict.fromkeys(server(p, dsn, pg_bin, tuple(targets)).backend for p in pgs))
    names = "-".join(Path(t.rstrip("/").split(",")[-1]).name for t in targets)
    out = report_dir or Path("reports/capacity") / f"{spec.name}-{names}"
    run = CapacityRun(spec, targets, pgs, baseline, Reach(dsn, pg_bin))
    units = run.units()
    with guarded(), Lines(sys.stdout) as lines:
        out = claim(out, "capacity")
        if not sys.stdout.isatty():  # a log: a plain line at least every 15 s (its heartbeat), besides each step's
            lines.started(f"capacity {spec.name} on {', '.join(targets)}")
        else:
            lines.every = float("inf")
        with Progress(TextColumn("[bold]capacity"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                      TextColumn("{task.fields[what]}"), TimeElapsedColumn(), TextColumn("ETA"),
                      TimeRemainingColumn(), console=err, transient=True) as progress:
            bar = progress.add_task("capacity", total=sum(units.values()), what="")

            total, seen, t0 = sum(units.values()), [0.0], time.monotonic()

            def on_progress(what: str, done: float) -> None:
                if what:
                    progress.update(bar, what=what)
                    lines.what = f"capacity {spec.name}: {min(seen[0] / total, 1):.0%} {what}"
                    if not err.is_terminal:  # a log (CI): one line per step, with the share done
                        err.print(f"[{time.monotonic() - t0:6.0f} s] {min(seen[0] / total, 1):4.0%} {what}",
                                  highlight=False)
                if done:
                    seen[0] += done
                    progress.advance(bar, done)

            run.progress = on_progress
            results = run.execute()
    results["plan"] = plans_of(results, spec.plan)
    if spec.budget and baseline:
        results["budget"] = judge_budget(results, spec.budget, baseline, spec.period, results["plan"])
    out.mkdir(parents=True, exist_ok=True)
    if run.ticks:
        pl.DataFrame(run.ticks, infer_schema_length=None).write_csv(out / "ticks.csv")
    index = write_report(results, out)
    if json_file:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(json.dumps(results, indent=2, default=str))
    print_verdict(results)
    print_plans(results)
    console.print(summary_table(results))
    console.print(f"report: {index} · per-tick data: {out / 'ticks.csv'} · {results['elapsed_s']:.0f} s",
                  highlight=False)
    for name, why in (results.get("failed_sweeps") or {}).items():
        console.print(f"[red]sweep failed[/] {name}: {why}", highlight=False)
    verdict = results.get("budget")
    if results.get("failed_sweeps") and not (verdict and not verdict["ok"]):
        raise typer.Exit(1)
    if verdict and not verdict["ok"]:
        raise typer.Exit(1)


@app.command("capacity-diff")
def capacity_diff(
    first: Annotated[Path, typer.Argument(help="a capacity result (capacity --json, or a report's results.json)")],
    second: Annotated[Path, typer.Argument(help="another result of the same spec")],
    tolerance: Annotated[float, typer.Option("--tolerance", help="allowed |ratio - 1| of medians")] = 0.15,
    floor_ms: Annotated[float, typer.Option(
        "--floor-ms", help="ms; points whose medians are both under it are not judged (0: every point is)")] = 0.0,
) -> None:
    """Run-to-run agreement of two capacity results: every point's median, second ÷ first. Exit 1 when a
    point disagrees by more than the tolerance."""
    from bench.orchestrate.capacity import compare, machine, paired

    runs = []
    for path in (first, second):
        try:
            runs.append(json.loads(path.read_text()))
        except (OSError, ValueError) as exc:
            raise fail(f"{path}: not a capacity result ({exc})")
    if runs[0].get("spec") != runs[1].get("spec"):
        raise fail(f"different specs: {runs[0].get('spec')!r} and {runs[1].get('spec')!r}")
    rows = compare(runs[0], runs[1], tolerance, floor_ms)
    if not rows:
        raise fail("the two results have no point in common", code=1)
    table = Table(title=f"capacity {runs[0]['spec']}: second run ÷ first (tolerance ±{tolerance:.0%})")
    for h in ("config", "point", "first (ms)", "second (ms)", "ratio", "÷ machine", ""):
        table.add_column(h, justify="left" if h in ("config", "point", "") else "right")
    for r in rows:
        table.add_row(r["config"], r["point"], f"{r['first_ms']:.3g}", f"{r['second_ms']:.3g}",
                      f"{r['ratio']:.2f}" if r["ratio"] is not None else "—",
                      f"{r['scaled']:.2f}" if r["scaled"] is not None else "—",
                      "[red]verdict differs[/]" if r["verdict_moved"] else "noise floor" if r["under_floor"] else
                      "overloaded in both" if r["overloaded"] else "ok" if r["ok"] else
                      "[red]differs[/] (ranges overlap)" if r["overlap"] else "[red]differs[/]")
    console.print(table)
    bad = [r for r in rows if not r["ok"]]
    judged = [r for r in rows if not r["under_floor"] and not r["overloaded"]]
    worst = max((abs(r["ratio"] - 1) for r in judged if r["ratio"]), default=0)
    pairs = paired(runs[0], runs[1], tolerance, floor_ms)
    if pairs:
        table = Table(title="paired: each target ÷ its baseline in the same run, second run ÷ first")
        for h in ("config", "point", "first", "second", "drift", ""):
            table.add_column(h, justify="left" if h in ("config", "point", "") else "right")
        for r in pairs:
            table.add_row(r["config"], r["point"], f"{r['first']:.3g}", f"{r['second']:.3g}", f"{r['drift']:.2f}",
                          "ok" if r["ok"] else "[red]differs[/]")
        console.print(table)
    console.print(f"{len(rows)} points, {len(bad)} beyond ±{tolerance:.0%} ({sum(bool(r['overlap']) for r in bad)} "
                  f"of them with overlapping min–max ranges); largest difference {worst:.1%}"
                  + (f"; {sum(r['overloaded'] for r in rows)} rate points unsustainable in both runs, held to the "
                     "verdict" if any(r["overloaded"] for r in rows) else ""), highlight=False)
    mins = [r for r in judged if r["min_ratio"] is not None]
    if mins:
        console.print(f"the fastest repetitions' ratios (minima) at the {len(mins)} points with ranges: "
                      f"{sum(not r['min_ok'] for r in mins)} beyond ±{tolerance:.0%}", highlight=False)
    drift = machine(runs[0], runs[1])
    if drift:
        scaled_bad = sum(not r["scaled_ok"] for r in rows if r["scaled"] is not None)
        console.print("the machine's fixed work, second run ÷ first: " + "; ".join(
            f"{pg} {m['ratio']:.2f}" + (f", by sweep {min(m['by_sweep'].values()):.2f}–{max(m['by_sweep'].values()):.2f}"
                                        if m["by_sweep"] else "")
            + f" (its scatter within each run {m['spreads'][0]:.0%}, {m['spreads'][1]:.0%}"
            + (f"; slow spells in {m['slow'][0]:.0%}, {m['slow'][1]:.0%} of its samples" if None not in m["slow"]
               else "") + ")"
            for pg, m in drift.items()) + f"; scaled by it, {scaled_bad} points beyond ±{tolerance:.0%}",
            highlight=False)
    if pairs:
        moved = [r for r in pairs if not r["ok"]]
        console.print(f"{len(pairs)} paired ratios (what the budgets judge), {len(moved)} beyond ±{tolerance:.0%}; "
                      f"largest drift {max(abs(r['drift'] - 1) for r in pairs):.1%}", highlight=False)
    if bad:
        raise typer.Exit(1)


