"""A batch of runs as the command line shows it (the batch itself: bench/orchestrate/matrix.py): the progress
while it runs, then the summary table, the failures, the baseline's lines, the JSON, JUnit and Markdown files,
and the exit code. `merge` prints a joined batch the same way."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from bench.cli import campaign, ci
from bench.cli.common import Outputs, console, err
from bench.cli.claim import writable_file
from bench.cli.errors import fail
from bench.cli.show import batch_progress, summary
from bench.orchestrate.matrix import BatchSpec, Outcome, run_batch
from bench.orchestrate.records import EVERY, NEW, Verdict, dumps


def write_ci(verdicts: list[Verdict], out: Outputs, title: str) -> None:
    if out.junit:
        ci.junit(verdicts, out.junit)
    if out.summary:
        out.summary.parent.mkdir(parents=True, exist_ok=True)
        with out.summary.open("a") as f:  # appended, as $GITHUB_STEP_SUMMARY is by every step
            f.write(ci.summary(verdicts, title))


def execute(spec: BatchSpec, jobs: int, cluster: str | None, out: Outputs,
            write_baseline: Path | None = None) -> None:
    """Run the batch and say how it went; exit 0 if every run met its expectations, 1 if not, 2 if a run gave
    no verdict."""
    for option, path in (("--json", out.json), ("--junit", out.junit), ("--summary", out.summary),
                         ("--write-baseline", write_baseline)):
        writable_file(path, option)  # before the batch runs, not after
    with batch_progress(f"{spec.title} on {spec.target} · "
                        f"{f'cluster {cluster}' if cluster else f'{jobs} job(s)'}") as reporter:
        outcome = run_batch(spec, jobs, cluster, reporter)
    show(outcome, out, write_baseline)


def show(outcome: Outcome, out: Outputs, write_baseline: Path | None = None) -> None:
    spec, verdicts, errors = outcome.spec, outcome.verdicts, outcome.errors
    accept = spec.judging.accept
    heading = f"{outcome.title} on {spec.target}"
    if verdicts:
        show_runs(verdicts, heading)
        console.print(f"{sum(v.ok for v in verdicts)} of {len(outcome.requests)} run(s) passed", highlight=False)
        if accept is not None or write_baseline:
            show_baseline(verdicts, accept, outcome.fixed, write_baseline, spec.target)
        annotate(verdicts, heading)
        write_ci(verdicts, out, heading)
    if out.json and (verdicts or spec.shard):  # a shard's, even empty: merge needs every shard
        out.json.parent.mkdir(parents=True, exist_ok=True)
        out.json.write_text(dumps(outcome.document()))
    if spec.until_failure:
        campaign.report(outcome.requests, outcome.results)
    exit_with(verdicts, [(e.code, e.error, e.request.name) for e in errors])


def show_runs(verdicts: list[Verdict], heading: str) -> None:
    """The summary table (the failing runs only, past 40), then each failure on a line with its replay."""
    shown = verdicts if len(verdicts) <= 40 else [v for v in verdicts if not v.ok]
    summary(shown, heading + ("" if shown is verdicts else f": the {len(shown)} failing run(s)"))
    for v in verdicts:
        if not v.ok:
            console.print(f"[red]FAIL[/] {v.scenario} seed {v.seed} on {v.server}: {v.report} — "
                          f"replay: {v.replay}", highlight=False, soft_wrap=True)


def exit_with(verdicts: list[Verdict], errors: list[tuple[int, str, str]]) -> None:
    """The batch's exit: with runs that gave no verdict (code, error, run), one line per distinct error with the
    runs it stopped, the worst last (its code); else 1 if a run failed its expectations, 0 if not."""
    if errors:
        by_text: dict[str, list[str]] = {}
        for _, text, run in sorted(errors, key=lambda e: e[0]):
            by_text.setdefault(text, []).append(run)
        lines = [f"{text} (in {len(runs)} run(s): {', '.join(_most(runs))})" for text, runs in by_text.items()]
        for line in lines[:-1]:
            err.print(f"also: {line}", highlight=False, soft_wrap=True)
        raise fail(lines[-1], code=max(code for code, _, _ in errors))
    raise typer.Exit(0 if all(v.ok for v in verdicts) else 1)


def _most(names: list[str], most: int = 5) -> list[str]:
    return names[:most] + ([f"{len(names) - most} more"] if len(names) > most else [])


def annotate(verdicts: list[Verdict], title: str) -> None:
    """On GitHub Actions, each new divergence (each failing run, without a baseline) also as an ::error line."""
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return
    for v in verdicts:
        base = v.baseline
        if v.ok or (base is not None and base["status"] != NEW):
            continue
        what = (base["new"][0]["what"] if base and base["new"] else
                "; ".join(f"{c['name']}: {c['observed']}" for c in v.failed_checks()))
        print(f"::error title={_escape(f'{title}: {v.scenario} seed {v.seed} on {v.server}', True)}::"
              f"{_escape(f'{what} — replay: {v.replay}')}", flush=True)


def _escape(text: str, prop: bool = False) -> str:
    out = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return out.replace(":", "%3A").replace(",", "%2C") if prop else out


def show_baseline(verdicts: list[Verdict], accept, fixed: list[str], write_baseline: Path | None,
                  target: str) -> None:
    """The baseline's lines under the table: what is new, what is fixed; or the baseline written."""
    new = [v for v in verdicts if v.baseline["status"] == NEW]
    if write_baseline:
        shown: dict[str, list[str]] = {}
        for v in verdicts:
            for x in v.baseline["shown"]:
                shown.setdefault(x, []).append(v.scenario)
        write_baseline_file(write_baseline, shown, target)
        console.print(f"baseline: wrote {len(shown)} accepted id(s) to {write_baseline}: "
                      f"{', '.join(sorted(shown, key=EVERY.index)) or 'none'}", highlight=False)
    else:
        console.print(f"baseline: accepted {', '.join(accept) or 'nothing'}; {len(new)} run(s) with new divergence",
                      highlight=False)
        exercised = {(v.repro or {}).get("id") for v in verdicts}
        unexercised = [x for x in accept if x not in exercised]
        if unexercised:
            console.print(f"baseline: not judged (no reproduction of it ran): {', '.join(unexercised)}",
                          highlight=False)
    for v in new:
        p = v.baseline["new"][0]
        console.print(f"[red]NEW[/] {v.scenario}: {p['what']} "
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
