"""`rollup-bench merge`: the JSON verdicts of a batch's shards joined into the batch's own
(bench/orchestrate/merge.py), printed as the batch would have printed them, with its JUnit, Markdown summary and
exit code."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bench.cli.common import JsonOpt, JunitOpt, SummaryOpt, app, console, outputs
from bench.cli.errors import fail
from bench.cli.matrix import annotate, exit_with, show_runs, write_ci
from bench.orchestrate.merge import MergeError, join, unshowable
from bench.orchestrate.records import dumps


@app.command()
def merge(
    files: Annotated[list[Path], typer.Argument(help="the JSON files of a batch's shards (gate or run --seeds "
                                                     "with --shard K/N --json FILE)")],
    json_file: JsonOpt = None,
    junit: JunitOpt = None,
    summary_file: SummaryOpt = None,
) -> None:
    """Join the JSON verdicts of a batch's shards into one, with its JUnit and Markdown summary; exit as the
    whole batch would have: 0 every run met its expectations, 1 one did not, 2 a run gave no verdict."""
    out = outputs(json_file, junit, summary_file)
    try:
        merged, title = join(files)
    except MergeError as exc:
        raise fail(str(exc))
    runs, errors = merged["runs"], merged.get("errors", [])
    if (wrong := unshowable([v.to_json() for v in runs])) is not None:
        raise fail(wrong)
    heading = f"{title} on {merged['target']}"
    if runs:
        show_runs(runs, heading)
    console.print(f"{sum(v.ok for v in runs)} of {len(runs) + len(errors)} run(s) passed, from {len(files)} "
                  f"file(s)", highlight=False)
    if out.json:
        out.json.parent.mkdir(parents=True, exist_ok=True)
        out.json.write_text(dumps(merged))
    if runs:
        annotate(runs, heading)
        write_ci(runs, out, heading)
    exit_with(runs, [(e["code"], e["error"], f"{e['scenario']} seed {e['seed']} on {e['server']}") for e in errors])
