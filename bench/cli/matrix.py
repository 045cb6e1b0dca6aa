"""A batch of runs as a command sees it — a gate's scenarios or a seed sweep, on one server or a matrix of them:
the jobs made from the command's options, a progress bar while the pool (`bench.cli.batch`) runs them, then
the summary table, the JSON, JUnit and Markdown files, and the exit code."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from bench.cli import campaign, ci
from bench.cli.batch import Job, failed_jobs, run_jobs, stem_dir
from bench.cli.common import console, err, side_flag
from bench.cli.errors import fail
from bench.cli.shards import parse_shard, record
from bench.cli.show import summary


def write_ci(verdicts: list[dict], junit: Path | None, summary_file: Path | None, title: str) -> None:
    if junit:
        ci.junit(verdicts, junit)
    if summary_file:
        summary_file.parent.mkdir(parents=True, exist_ok=True)
        with summary_file.open("a") as f:  # appended, as $GITHUB_STEP_SUMMARY is by every step
            f.write(ci.summary(verdicts, title))


def run_batch(runs: list[tuple[Path, int | None]], target: str, pgs: list[str], jobs: int | None, dsn, pg_bin,
          read_side: str | None, report_dir: Path, title: str, json_file, junit, summary_file, hint: str = "",
          expect: dict[str, dict] | None = None, cluster: str | None = None, shard: str | None = None,
          until_failure: bool = False) -> None:
    """Runs (scenario, seed) on every server in `pgs`, over `jobs` workers (or a Dask `cluster`); the summary,
    the CI files, and the exit: 0 if every run met its expectations, 1 if not, 2 if a run could not be made.
    `expect`: per scenario name, expectation fields overriding its own. `shard` 'K/N': only the K-th of N slices
    of the runs. `until_failure`: no run started after one fails (bench/cli/campaign.py)."""
    workers = default_jobs() if jobs is None else jobs
    if workers < 1:
        raise fail("--jobs must be at least 1")
    try:
        part = parse_shard(shard) if shard else None
    except ValueError as exc:
        raise fail(str(exc))
    flags = lambda g: side_flag(read_side) + (f" --pg {g}" if g != "embedded" else "")  # noqa: E731
    todo = [Job(path, target, g, s, stem_dir(report_dir, g, pgs), read_side,
                (hint or REPLAY).replace("{seed}", str(s)).replace("{flags}", flags(g)), (expect or {}).get(path.stem))
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
            from bench.cli.cluster import run_on_cluster

            results = run_on_cluster(todo, cluster, workers, dsn=dsn, pg_bin=pg_bin, on_done=done, stop=stop)
        else:
            results = run_jobs(todo, workers, dsn=dsn, pg_bin=pg_bin, on_done=done, stop=stop)
    errors = failed_jobs(todo, results)
    verdicts = [v for v in results if v is not None and "error" not in v]
    if verdicts:
        shown = verdicts if len(verdicts) <= 40 else [v for v in verdicts if not v["ok"]]
        summary(shown, f"{title} on {target}" + ("" if shown is verdicts else f": the {len(shown)} failing run(s)"))
        for v in verdicts:
            if not v["ok"]:
                console.print(f"[red]FAIL[/] {v['scenario']} seed {v['seed']} on {v['server']}: {v['report']} — "
                              f"replay: {v['replay']}", highlight=False, soft_wrap=True)
        console.print(f"{sum(v['ok'] for v in verdicts)} of {len(todo)} run(s) passed", highlight=False)
        if junit or summary_file:
            write_ci(verdicts, junit, summary_file, f"{title} on {target}")
    if json_file and (verdicts or part):  # a shard's, even empty: merge needs every shard
        extra = {"errors": [{"scenario": e.job.scenario.stem, "seed": e.job.seed, "server": e.job.pg,
                             "code": e.code, "error": str(e)} for e in errors]} if errors else {}
        if part:
            extra["shard"] = record(part, whole, total, part.indexes(total), results)
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


def runs_named(errors: list, most: int = 5) -> list[str]:
    names = [f"{e.job.scenario.stem}{f' seed {e.job.seed}' if e.job.seed is not None else ''} on {e.job.pg}"
             for e in errors]
    return names[:most] + ([f"{len(names) - most} more"] if len(names) > most else [])


REPLAY = "rollup-bench replay {history} --target {target}{flags}"  # a batch run's replay line ({flags}: its own)


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
