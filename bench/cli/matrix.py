"""A batch of runs as a command sees it — a gate's scenarios or a seed sweep, on one server or a matrix of them:
the jobs made from the command's options, a progress bar while the pool (`bench.orchestrate.batch`) runs them, then
the summary table, the JSON, JUnit and Markdown files, and the exit code."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from bench.cli import campaign, ci
from bench.orchestrate.batch import Job, failed_jobs, run_jobs, stem_dir
from bench.cli.common import console, err, side_flag
from bench.cli.claim import writable_file
from bench.cli.errors import fail
from bench.orchestrate.shards import parse_shard, record
from bench.cli.show import summary
from bench.judge.baseline import EVERY, NEW, settle


def write_ci(verdicts: list[dict], junit: Path | None, summary_file: Path | None, title: str) -> None:
    if junit:
        ci.junit(verdicts, junit)
    if summary_file:
        summary_file.parent.mkdir(parents=True, exist_ok=True)
        with summary_file.open("a") as f:  # appended, as $GITHUB_STEP_SUMMARY is by every step
            f.write(ci.summary(verdicts, title))


def run_batch(runs: list[tuple[Path, int | None]], target: str, pgs: list[str], jobs: int | None, dsn, pg_bin,
          read_side: str | None, report_dir: Path, title: str, json_file, junit, summary_file, hint: str = "",
          expect: dict[str, dict] | None = None, accept: tuple[str, ...] | None = None, strict_accept: bool = False,
          write_baseline: Path | None = None, cluster: str | None = None, shard: str | None = None,
          until_failure: bool = False) -> None:
    """Runs (scenario, seed) on every server in `pgs`, over `jobs` workers (or a Dask `cluster`); the summary,
    the CI files, and the exit: 0 if every run met its expectations, 1 if not, 2 if a run could not be made.
    `expect`: per scenario name, expectation fields overriding its own. `accept`: a baseline of catalogue ids
    every run's divergence is judged against instead (`strict_accept`: an accepted id no run shows fails);
    `write_baseline`: judge against the whole catalogue and write the ids the runs show to that file. `shard`
    'K/N': only the K-th of N slices of the runs. `until_failure`: no run started after one fails
    (bench/cli/campaign.py)."""
    workers = default_jobs() if jobs is None else jobs
    if workers < 1:
        raise fail("--jobs must be at least 1")
    for option, path in (("--json", json_file), ("--junit", junit), ("--summary", summary_file),
                         ("--write-baseline", write_baseline)):
        writable_file(path, option)  # before the batch runs, not after
    try:
        part = parse_shard(shard) if shard else None
    except ValueError as exc:
        raise fail(str(exc))
    flags = lambda g: side_flag(read_side) + (f" --pg {g}" if g != "embedded" else "")  # noqa: E731
    todo = [Job(path, target, g, s, stem_dir(report_dir, g, pgs), read_side,
                (hint or REPLAY).replace("{seed}", str(s)).replace("{flags}", flags(g)), (expect or {}).get(path.stem),
                EVERY if write_baseline else accept)
            for path, s in runs for g in pgs]
    total, whole = len(todo), title
    if part:
        title, todo = f"{title} (shard {part})", [todo[i] for i in part.indexes(total)]
    failures = 0
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TextColumn("{task.fields[last]}"), TimeElapsedColumn(), TimeRemainingColumn(), console=err,
                  transient=True) as progress:
        bar = progress.add_task(f"{title} on {target} · {f'cluster {cluster}' if cluster else f'{workers} job(s)'}",
                                total=len(todo), last="")

        def done(job, v) -> None:
            nonlocal failures
            failures += "error" in v or not v["ok"]
            progress.update(bar, advance=1, last=f"{failures} failed · last {job.scenario.stem}"
                                                 f"{f' seed {job.seed}' if job.seed is not None else ''}")

        stop = campaign.failed if until_failure else None
        if cluster:  # the executor: Dask workers, or this machine's process pool
            from bench.orchestrate.cluster import run_on_cluster

            results = run_on_cluster(todo, cluster, workers, dsn=dsn, pg_bin=pg_bin, on_done=done, stop=stop)
        else:
            results = run_jobs(todo, workers, dsn=dsn, pg_bin=pg_bin, on_done=done, stop=stop)
    errors = failed_jobs(todo, results)
    verdicts = [v for v in results if v is not None and "error" not in v]
    fixed = settle(verdicts, accept, strict_accept) if accept is not None and not write_baseline and not part else []
    if verdicts:
        shown = verdicts if len(verdicts) <= 40 else [v for v in verdicts if not v["ok"]]
        summary(shown, f"{title} on {target}" + ("" if shown is verdicts else f": the {len(shown)} failing run(s)"))
        for v in verdicts:
            if not v["ok"]:
                console.print(f"[red]FAIL[/] {v['scenario']} seed {v['seed']} on {v['server']}: {v['report']} — "
                              f"replay: {v['replay']}", highlight=False, soft_wrap=True)
        console.print(f"{sum(v['ok'] for v in verdicts)} of {len(todo)} run(s) passed", highlight=False)
        if accept is not None or write_baseline:
            show_baseline(verdicts, accept, fixed, write_baseline, target)
        if junit or summary_file:
            write_ci(verdicts, junit, summary_file, f"{title} on {target}")
    if json_file and (verdicts or part):  # a shard's, even empty: merge needs every shard
        extra = {"errors": [{"scenario": e.job.scenario.stem, "seed": e.job.seed, "server": e.job.pg,
                             "code": e.code, "error": str(e)} for e in errors]} if errors else {}
        if part:
            extra["shard"] = record(part, whole, total, part.indexes(total), results)
        if accept is not None:  # (a shard's fixed ids are settled when the shards are merged)
            extra["baseline"] = {"accepted": list(accept), "fixed": fixed, "strict": strict_accept}
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(json.dumps({"target": target, "ok": all(v["ok"] for v in verdicts) and not errors,
                                         "runs": verdicts, **extra}, indent=2, default=str))
    if until_failure:
        campaign.report(todo, results)
    if errors:  # one line per distinct error, the worst last, each with the runs it stopped
        by_text: dict[str, list] = {}
        for e in sorted(errors, key=lambda e: e.code):
            by_text.setdefault(str(e), []).append(e)
        lines = [f"{text} (in {len(es)} run(s): {', '.join(runs_named(es))})" for text, es in by_text.items()]
        for line in lines[:-1]:
            err.print(f"also: {line}", highlight=False, soft_wrap=True)
        raise fail(lines[-1], code=max(e.code for e in errors))
    raise typer.Exit(0 if all(v["ok"] for v in verdicts) else 1)


def show_baseline(verdicts: list[dict], accept, fixed: list[str], write_baseline: Path | None, target: str) -> None:
    """The baseline's lines under the table: what is new, what is fixed; or the baseline written."""
    new = [v for v in verdicts if v["baseline"]["status"] == NEW]
    if write_baseline:
        shown: dict[str, list[str]] = {}
        for v in verdicts:
            for x in v["baseline"]["shown"]:
                shown.setdefault(x, []).append(v["scenario"])
        write_baseline_file(write_baseline, shown, target)
        console.print(f"baseline: wrote {len(shown)} accepted id(s) to {write_baseline}: "
                      f"{', '.join(sorted(shown, key=EVERY.index)) or 'none'}", highlight=False)
    else:
        console.print(f"baseline: accepted {', '.join(accept) or 'nothing'}; {len(new)} run(s) with new divergence",
                      highlight=False)
    for v in new:
        p = v["baseline"]["new"][0]
        console.print(f"[red]NEW[/] {v['scenario']}: {p['what']} "
                      f"({'explained by ' + ', '.join(p['ids']) + ', not accepted' if p['ids'] else 'unexplained'})",
                      highlight=False, soft_wrap=True)
    for x in fixed:
        console.print(f"[yellow]FIXED[/] {x}: no run shows it any more — remove it from accept", highlight=False)


def write_baseline_file(path: Path, shown: dict[str, list[str]], target: str) -> None:
    from datetime import UTC, datetime

    here = path.resolve().parent  # the target's directories as the team's repository names them, not this machine
    names = [os.path.relpath(d, here) if os.path.isabs(d) else d for d in target.split(",")]
    lines = [f"# rollup-bench baseline: the catalogue ids the gate showed on {', '.join(names)}, "
             f"{datetime.now(UTC):%Y-%m-%d}.",
             "# Point [tool.rollup-bench] baseline at this file; remove an id when its fix lands.", "accept = ["]
    lines += [f'    "{x}",  # shown by {", ".join(sorted(set(shown[x])))}' for x in sorted(shown, key=EVERY.index)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines + ["]", ""]))


def runs_named(errors: list, most: int = 5) -> list[str]:
    names = [f"{e.job.scenario.stem}{f' seed {e.job.seed}' if e.job.seed is not None else ''} on {e.job.pg}"
             for e in errors]
    return names[:most] + ([f"{len(names) - most} more"] if len(names) > most else [])


REPLAY = "rollup-bench replay {history} --target {target}{flags}"  # a batch run's replay line ({flags}: its own)


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
