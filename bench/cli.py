"""The `rollup-bench` command line. Exit codes: 0 all good, 1 an expectation (or migration) failed, 2 bad
input or environment."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sys
import time
import warnings
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from rollup import clock
from rollup.clock import from_us, to_us
from rollup.database import Database
from rollup.migrations import Runner, Target
from rollup.servers import BACKENDS, start_server

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Simulation and verification bench for the task_usage_hourly rollup.")
console = Console()
err = Console(stderr=True)

PgOpt = Annotated[str, typer.Option("--pg", help=f"PostgreSQL backend: {', '.join(BACKENDS)}")]
DsnOpt = Annotated[Optional[str], typer.Option("--dsn", help="connection URL for --pg dsn")]
PgBinOpt = Annotated[Optional[str], typer.Option("--pg-bin", help="directory of initdb/pg_ctl for --pg local")]
TargetOpt = Annotated[str, typer.Option("--target", help="reference, hardened, or migration directories (a,b)")]
PgListOpt = Annotated[str, typer.Option("--pg", help=f"PostgreSQL backend(s), comma-separated for a matrix: "
                                                     f"{', '.join(BACKENDS)}")]
ReadSideOpt = Annotated[Optional[str], typer.Option("--read-side", help="faithful or hardened (default: the "
                                                                         "target's own: hardened for hardened)")]
JobsOpt = Annotated[Optional[int], typer.Option("--jobs", "-j", help="parallel workers (default: the cores)")]
JunitOpt = Annotated[Optional[Path], typer.Option("--junit", help="write JUnit XML here (a testcase per run)")]
SummaryOpt = Annotated[Optional[Path], typer.Option("--summary", help="append a Markdown summary here "
                                                                       "(e.g. $GITHUB_STEP_SUMMARY)")]


def fail(message: str, code: int = 2) -> typer.Exit:
    """Say what went wrong on one line (a server's log excerpt, if any, follows it) and exit with `code`."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@contextmanager
def guarded():
    """Errors to exit codes for every command (`bench.execute.failure`): one line, never a traceback."""
    from bench.execute import failure

    try:
        yield
    except Exception as exc:
        known = failure(exc)
        if known is None:
            raise
        raise fail(known[0], code=known[1])


def parse_instant(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC).replace(microsecond=0)
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise fail(f"--at {text!r} is not an ISO 8601 instant (e.g. 2026-03-01T12:00Z)")
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _terminate(signum, frame):  # SIGTERM unwinds like Ctrl-C, so servers are stopped and data removed
    sys.exit(128 + signum)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    from bench.scenario import ScenarioWarning

    if issubclass(category, ScenarioWarning):  # a scenario's own: one line, like its errors
        err.print(f"warning: {message}", highlight=False, soft_wrap=True)
    else:
        _python_warning(message, category, filename, lineno, file, line)


_python_warning = warnings.showwarning


@app.callback()
def main() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    warnings.showwarning = _show_warning


@app.command()
def migrate(
    target: TargetOpt = "reference",
    pg: PgOpt = "embedded",
    dsn: DsnOpt = None,
    pg_bin: PgBinOpt = None,
    to: Annotated[Optional[str], typer.Option("--to", help="stop after this version (e.g. 103)")] = None,
    round_trip: Annotated[bool, typer.Option("--round-trip", help="then migrate all the way down and up again")] = False,
    no_hooks: Annotated[bool, typer.Option("--no-hooks", help="skip the hook before 103")] = False,
    at: Annotated[Optional[str], typer.Option("--at", help="simulated start instant (default: now)")] = None,
) -> None:
    """Apply a target's migrations to a fresh database and print what was applied."""
    start = parse_instant(at)
    with guarded():
        tgt = Target.resolve(target)
        if to:
            tgt.find(to)
        with start_server(pg, dsn=dsn, pg_bin=pg_bin) as server, Database(server, start) as db:
            for w in clock.scan(tgt.sql_files()):
                err.print(f"[yellow]warning:[/] {w}", highlight=False)
            runner = Runner(db, tgt, hooks={} if no_hooks else None,
                            on_apply=lambda action, v: console.print(f"  {action:>4}  {v}", highlight=False))
            console.print(f"[bold]{server.backend}[/] PostgreSQL {server.version()} — target [bold]{tgt.name}[/]")
            applied = runner.up(to)
            if round_trip:
                runner.down(None)
                applied = runner.up(to)
            table = Table("version", "file", title=f"applied {len(applied)} migration(s)")
            for m in tgt.migrations():
                if m.version in applied:
                    table.add_row(m.version, str(m.up.parent.name + "/" + m.up.name))
            console.print(table)


# ---------------------------------------------------------------- run and replay

ReportDirOpt = Annotated[Path, typer.Option("--report-dir", help="where the history and reports are written")]
JsonOpt = Annotated[Optional[Path], typer.Option("--json", help="also write the JSON verdict here")]


@contextmanager
def progress_bar(sc, target: str):
    """A live bar of simulated time, operations, ticks and checks; yields the runner's progress callback."""
    start, total = to_us(sc.start), sc.duration // timedelta(microseconds=1)
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[sim]}"),
                  TextColumn("{task.fields[stats]}"), TimeElapsedColumn(), console=err, transient=True) as progress:
        bar = progress.add_task(f"{sc.name} on {target}", total=total, sim="", stats="")

        def on_progress(at: int, r) -> None:
            progress.update(bar, completed=at - start, sim=f"{from_us(at):%Y-%m-%d %H:%M}Z",
                            stats=f"{sum(r.ops.values())} ops · {r.ticks} ticks · {len(r.checks)} checks")

        yield on_progress


def show_verdict(v: dict) -> None:
    table = Table(title=f"{v['scenario']} on {v['target']} (PostgreSQL {v['server_version']}, seed {v['seed']})")
    for col in ("check", "expected", "observed", "ok"):
        table.add_column(col)
    for c in v["checks"]:
        table.add_row(c["name"], c["expected"], c["observed"], "[green]yes[/]" if c["ok"] else "[red]no[/]")
    console.print(table)
    zones = Table("zone", "whole-hour", "pipeline drift", "representation error", "tokens misplaced",
                  title="viewing zones at the final check (report rows)")
    for z in v["zones"]:
        zones.add_row(z["name"], "yes" if z["whole_hour"] else "no", str(z["pipeline_drift"]),
                      str(z["representation_error"]), f"{z['representation_error_share']:.2%}")
    console.print(zones)
    if len(v.get("tables", [])) > 1:  # a target that keeps more than the hourly table: each judged at its grain
        tables = Table("rollup table", "grain", "missing", "extra", "mismatched", title="rollup tables at the final check")
        for t in v["tables"]:
            tables.add_row(t["table"], f"{t['grain_minutes']} min", str(t["missing"]), str(t["extra"]),
                           str(t["mismatched"]))
        console.print(tables)
    a = v.get("attribution") or {}
    if a.get("keys"):
        by = Table("catalogue id", "bad keys it explains", title=f"attribution of {a['keys']} bad key(s)")
        for x, n in a["by_id"].items():
            by.add_row(x, str(n))
        by.add_row("[red]unexplained[/]" if a["unexplained_keys"] else "unexplained", str(a["unexplained_keys"]))
        for x, why in a.get("state", {}).items():  # not a key's: the state row's
            by.add_row(x, f"(state row: {why})")
        console.print(by)
    for b in v["bad_keys"][:5]:
        k = b["key"]
        console.print(f"[red]{b['status']}[/] {k['bucket_hour']} agent={k['agent_id'][:8]} "
                      f"runtime={k['runtime_id'][:8]} project={(k['project_id'] or '-')[:8]} "
                      f"{k['provider']}/{k['model']} deltas={b['deltas']}", highlight=False)
        for o in b["ops"]:
            console.print(f"    op #{o['i']} {o['f']} at {o['at']} ({o['outcome']})", highlight=False)
    ops = v["operations"]
    console.print(f"{ops['total']} operations ({ops.get('ok', 0)} ok, {ops.get('fail', 0)} failed), "
                  f"{v['ticks']['count']} ticks; history sha256 {v['history_sha256'][:16]}…; report {v['report']}",
                  highlight=False)
    if not v["ok"]:
        for c in v["checks"]:
            if not c["ok"]:  # on one line each, whatever the terminal's width: what failed, and how
                console.print(f"[red]failed[/] {c['name']}: {c['observed']}", highlight=False, soft_wrap=True)
        console.print(f"[bold red]FAIL[/] — replay with: {v['replay']}", highlight=False)


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
) -> None:
    """Generate a scenario's workload (or play its script), apply it to a target, and judge the rollup. With
    --seeds, once per seed (in parallel with --jobs), ending with the failing seeds and their replay commands."""
    from bench.batch import parse_seeds
    from bench.execute import run_scenario
    from bench.scenario import load

    pgs = pg_list(pg)
    if seed is not None and seeds is not None:
        raise fail("--seed and --seeds: give one or the other")
    with guarded():
        sc = load(scenario)
        Target.resolve(target, read_side)
        if seeds is not None or len(pgs) > 1:
            try:
                sweep = parse_seeds(seeds) if seeds is not None else [seed if seed is not None else sc.seed]
            except ValueError as exc:
                raise fail(str(exc))
            batch([(scenario, s) for s in sweep], target, pgs, jobs, dsn, pg_bin, read_side, report_dir,
                  f"{sc.name} seeds {seeds}" if seeds else sc.name, json_file, junit, summary_file,
                  hint=REPLAY + f"   (or: rollup-bench run {scenario} --target {{target}}{{flags}} --seed {{seed}})")
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

    from bench.execute import run_scenario
    from bench.history import History
    from bench.scenario import ScenarioError, loads

    try:
        keep = {int(x) for x in only.split(",") if x.strip()} if only is not None else None
    except ValueError:
        raise fail(f"--only {only!r}: expected operation indexes, comma-separated")
    try:
        h = History.load(history)
        sc = dataclasses.replace(loads(h.header["toml"], source=str(history)), seed=h.header["seed"])
    except ScenarioError as exc:
        raise fail(str(exc))
    except (OSError, ValueError, KeyError, pl.exceptions.PolarsError) as exc:
        raise fail(f"{history}: cannot replay: {' '.join(str(exc).split())[:200]}")
    with guarded():
        Target.resolve(target, read_side)
        with start_server(pg, dsn=dsn, pg_bin=pg_bin) as server, progress_bar(sc, target) as on_progress:
            v = run_scenario(server, None, target, report_dir, sc=sc, text=h.header["toml"], ops=h.replay(keep),
                             replaying=True, on_progress=on_progress, json_file=json_file, read_side=read_side)
    show_verdict(v)
    same = v["history_sha256"] == h.sha256
    if keep is None:
        console.print(f"replayed history {'matches' if same else 'DIFFERS from'} the original (sha256 "
                      f"{h.sha256[:16]}…)", highlight=False)
    raise typer.Exit(0 if v["ok"] else 1)


@app.command()
def check(
    history: Annotated[Path, typer.Argument(help="a history file written by run, replay, repro or gate")],
    json_file: JsonOpt = None,
) -> None:
    """Judge a recorded run again, without a database: from its history and the snapshots kept beside it
    (<history>.checks/). A checker fixed since the run gives its new verdict on the same evidence."""
    import polars as pl

    from bench.execute import rejudge
    from bench.verdict import evaluate, markdown

    with guarded():
        try:
            v = evaluate(rejudge(history))
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


# ---------------------------------------------------------------- reproductions and the gate


def show_script(v: dict) -> None:
    """A reproduction's operation sequence: the shortest that shows it (the world it acts on is implied)."""
    table = Table("#", "simulated time", "step", "details", title=f"{v['scenario']}: the sequence")
    for s in v["script"]:
        details = ", ".join(f"{k}={str(val)[:12]}" for k, val in s.items() if k not in ("i", "at", "op", "session"))
        session = f" [session {s['session']}]" if s["session"] else ""
        table.add_row(str(s["i"]), s["at"][:19].replace("T", " "), s["op"] + session, details)
    console.print(table)


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
    from bench.execute import SCENARIOS, find_repro, run_scenario

    with guarded():
        names = sorted(p.stem for p in (SCENARIOS / "repro").glob("*.toml")) if ids == ["all"] else ids
        paths = [find_repro(n) for n in names]
        Target.resolve(target, read_side)
        verdicts = []
        with start_server(pg, dsn=dsn, pg_bin=pg_bin) as server:
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


def summary(verdicts: list[dict], title: str) -> None:
    seeds, servers = len({v["seed"] for v in verdicts}) > 1, len({v.get("server") for v in verdicts}) > 1
    table = Table("scenario", *(["seed"] if seeds else []), *(["server"] if servers else []), "expected", "observed",
                  "ok", title=title)
    for v in verdicts:
        check = v["checks"][0]
        observed = ", ".join(c["observed"] for c in v["checks"] if not c["ok"]) or check["observed"]
        table.add_row(v["scenario"], *([str(v["seed"])] if seeds else []), *([v["server"]] if servers else []),
                      check["expected"], observed, "[green]yes[/]" if v["ok"] else "[red]no[/]")
    console.print(table)


def pg_list(pg: str) -> list[str]:
    """--pg embedded,local: the servers of a matrix, each a known backend."""
    pgs = list(dict.fromkeys(p.strip() for p in pg.split(",") if p.strip()))
    unknown = [p for p in pgs if p not in BACKENDS]
    if not pgs or unknown:
        raise fail(f"--pg {pg!r}: unknown backend {', '.join(unknown) or '(none given)'}; "
                   f"choose from {', '.join(BACKENDS)}")
    return pgs


def side_flag(read_side: str | None) -> str:
    return f" --read-side {read_side}" if read_side else ""


def write_ci(verdicts: list[dict], junit: Path | None, summary_file: Path | None, title: str) -> None:
    from bench import ci

    if junit:
        ci.junit(verdicts, junit)
    if summary_file:
        summary_file.parent.mkdir(parents=True, exist_ok=True)
        with summary_file.open("a") as f:  # appended, as $GITHUB_STEP_SUMMARY is by every step
            f.write(ci.summary(verdicts, title))


def batch(runs: list[tuple[Path, int | None]], target: str, pgs: list[str], jobs: int | None, dsn, pg_bin,
          read_side: str | None, report_dir: Path, title: str, json_file, junit, summary_file, hint: str = "",
          expect: dict[str, dict] | None = None) -> None:
    """Runs (scenario, seed) on every server in `pgs`, over `jobs` workers; the summary, the CI files, and the
    exit: 0 if every run met its expectations, 1 if not, 2 if a run could not be made. `expect`: per scenario
    name, expectation fields overriding its own."""
    from bench.batch import Job, failed_jobs, run_jobs, stem_dir

    workers = default_jobs() if jobs is None else jobs
    if workers < 1:
        raise fail("--jobs must be at least 1")
    flags = lambda g: side_flag(read_side) + (f" --pg {g}" if g != "embedded" else "")  # noqa: E731
    todo = [Job(path, target, g, s, stem_dir(report_dir, g, pgs), read_side,
                (hint or REPLAY).replace("{seed}", str(s)).replace("{flags}", flags(g)), (expect or {}).get(path.stem))
            for path, s in runs for g in pgs]
    failures = 0
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TextColumn("{task.fields[last]}"), TimeElapsedColumn(), TimeRemainingColumn(), console=err,
                  transient=True) as progress:
        bar = progress.add_task(f"{title} on {target} · {workers} job(s)", total=len(todo), last="")

        def done(job, v) -> None:
            nonlocal failures
            failures += "error" in v or not v["ok"]
            progress.update(bar, advance=1, last=f"{failures} failed · last {job.scenario.stem}"
                                                 f"{f' seed {job.seed}' if job.seed is not None else ''}")

        results = run_jobs(todo, workers, dsn=dsn, pg_bin=pg_bin, on_done=done)
    errors = failed_jobs(todo, results)
    verdicts = [v for v in results if "error" not in v]
    if verdicts:
        shown = verdicts if len(verdicts) <= 40 else [v for v in verdicts if not v["ok"]]
        summary(shown, f"{title} on {target}" + ("" if shown is verdicts else f": the {len(shown)} failing run(s)"))
        for v in verdicts:
            if not v["ok"]:
                console.print(f"[red]FAIL[/] {v['scenario']} seed {v['seed']} on {v['server']}: {v['report']} — "
                              f"replay: {v['replay']}", highlight=False, soft_wrap=True)
        console.print(f"{sum(v['ok'] for v in verdicts)} of {len(todo)} run(s) passed", highlight=False)
        if json_file:
            json_file.parent.mkdir(parents=True, exist_ok=True)
            json_file.write_text(json.dumps({"target": target, "ok": all(v["ok"] for v in verdicts) and not errors,
                                             "runs": verdicts}, indent=2, default=str))
        if junit or summary_file:
            write_ci(verdicts, junit, summary_file, f"{title} on {target}")
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


def gate_scenarios() -> list[Path]:
    """steady first (the longest, so a parallel gate starts it first), then the reproductions and peer cases."""
    from bench.execute import SCENARIOS

    return [SCENARIOS / "steady.toml", *sorted((SCENARIOS / "repro").glob("*.toml")),
            *sorted((SCENARIOS / "peer").glob("*.toml"))]


ConfigOpt = Annotated[Optional[Path], typer.Option("--config", help="the project's configuration (default: the "
                                                               "nearest rollup-bench.toml or pyproject.toml with "
                                                               "[tool.rollup-bench])")]


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
) -> None:
    """The CI gate: steady, every reproduction and every consistent peer case, each against its expectation
    for this target (reference: every id reproduced; hardened and other targets: converged everywhere). With no
    options, what the project's [tool.rollup-bench] says; options override it."""
    from bench import project

    with guarded():
        proj = project.load(config) if config else project.load()
        if proj.path:
            err.print(f"project: {proj.path}", highlight=False)
        target = target or proj.target or "reference"
        read_side = read_side or proj.read_side
        pgs = pg_list(pg or proj.server or "embedded")
        Target.resolve(target, read_side)
        paths = [p for s in proj.scenarios or (project.GATE,)
                 for p in (gate_scenarios() if s == project.GATE else [Path(s)])]
        unknown = sorted(set(proj.expect) - {p.stem for p in paths})
        if unknown:
            raise fail(f"{proj.path}: expect.{unknown[0]}: no scenario named {unknown[0]!r} in the gate's set")
        batch([(p, None) for p in dict.fromkeys(paths)], target, pgs, jobs or proj.jobs, dsn or proj.dsn,
              pg_bin or proj.pg_bin, read_side, report_dir or proj.report_dir or Path("reports/gate"), "gate",
              json_file, junit, summary_file, expect=proj.expect)


@app.command()
def diff(
    scenario: Annotated[Path, typer.Argument(help="scenario TOML file")],
    a: Annotated[str, typer.Option("--a", help="first target")] = "reference",
    b: Annotated[str, typer.Option("--b", help="second target")] = "hardened",
    every: Annotated[int, typer.Option("--every", help="compare after every N ticks (and at every check)")] = 12,
    pg: PgOpt = "embedded",
    dsn: DsnOpt = None,
    pg_bin: PgBinOpt = None,
    report_dir: ReportDirOpt = Path("reports/diff"),
    json_file: JsonOpt = None,
) -> None:
    """Run one operation stream on two targets in lockstep and report where their rollups differ."""
    from bench.diff import run_diff
    from bench.execute import ops_for
    from bench.scenario import load

    if every < 1:
        raise fail("--every must be at least 1")
    with guarded():
        sc = load(scenario)
        ta, tb = Target.resolve(a), Target.resolve(b)
        with start_server(pg, dsn=dsn, pg_bin=pg_bin) as server, progress_bar(sc, f"{a} vs {b}") as on_progress:
            result = run_diff(server, sc, scenario.read_text(), ta, tb, ops_for(sc), report_dir, every, on_progress)
    table = Table("simulated time", "keys differing", "first difference", title=f"{sc.name}: {a} (a) vs {b} (b)")
    for d in result.divergences[:40]:
        e = d.examples[0]
        table.add_row(from_us(d.at).strftime("%Y-%m-%d %H:%M"), str(d.keys),
                      f"{e['side']} {e['bucket_hour'][:16]} agent {e['agent_id'][:8]} {e['model']} {e['deltas']}")
    console.print(table)
    console.print(f"{result.compared} comparisons, {len(result.divergences)} with differences; "
                  f"histories: {result.histories[0]}, {result.histories[1]}", highlight=False)
    if json_file:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(json.dumps({"scenario": sc.name, "a": a, "b": b, "compared": result.compared,
                                         "divergences": [dataclasses.asdict(d) for d in result.divergences]},
                                        indent=2, default=str))
    raise typer.Exit(1 if result.divergences else 0)


# ---------------------------------------------------------------- capacity planning


@app.command()
def capacity(
    spec_file: Annotated[Path, typer.Argument(metavar="SPEC", help="capacity spec (scenarios/capacity/*.toml)")],
    target: Annotated[Optional[list[str]], typer.Option("--target", help="a target to measure (repeatable)")] = None,
    pg: Annotated[str, typer.Option("--pg", help="servers, comma-separated: embedded,local,dsn,docker")] = "embedded",
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

    from bench.capacity import budget as budgets
    from bench.capacity.report import summary_table, write_report
    from bench.capacity.run import CapacityRun
    from bench.capacity.spec import load as load_spec

    targets = list(dict.fromkeys(target or ["reference"]))
    pgs = [p.strip() for p in pg.split(",") if p.strip()]
    with guarded():
        spec = load_spec(spec_file)
        if quick:
            spec = spec.quick()
        for p in pgs:
            if p not in BACKENDS:
                raise fail(f"--pg {p!r}: expected one of {', '.join(BACKENDS)}")
        if baseline and baseline not in targets:
            targets.insert(0, baseline)
        if spec.budget and not baseline and len(targets) > 1:
            raise fail("the spec has a [budget]: name the --baseline target its ratios are to")
        for t in targets:
            Target.resolve(t)
    names = "-".join(Path(t.rstrip("/").split(",")[-1]).name for t in targets)
    out = report_dir or Path("reports/capacity") / f"{spec.name}-{names}"
    run = CapacityRun(spec, targets, pgs, baseline, dsn=dsn, pg_bin=pg_bin)
    units = run.units()
    with guarded():
        with Progress(TextColumn("[bold]capacity"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                      TextColumn("{task.fields[what]}"), TimeElapsedColumn(), TextColumn("ETA"),
                      TimeRemainingColumn(), console=err, transient=True) as progress:
            bar = progress.add_task("capacity", total=sum(units.values()), what="")

            total, seen, t0 = sum(units.values()), [0.0], time.monotonic()

            def on_progress(what: str, done: float) -> None:
                if what:
                    progress.update(bar, what=what)
                    if not err.is_terminal:  # a log (CI): one line per step, with the share done
                        err.print(f"[{time.monotonic() - t0:6.0f} s] {min(seen[0] / total, 1):4.0%} {what}",
                                  highlight=False)
                if done:
                    seen[0] += done
                    progress.advance(bar, done)

            run.progress = on_progress
            results = run.execute()
    if spec.budget and baseline:
        results["budget"] = budgets.evaluate(results, spec.budget, baseline, spec.period)
    out.mkdir(parents=True, exist_ok=True)
    if run.ticks:
        pl.DataFrame(run.ticks, infer_schema_length=None).write_csv(out / "ticks.csv")
    index = write_report(results, out)
    if json_file:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(json.dumps(results, indent=2, default=str))
    console.print(summary_table(results))
    console.print(f"report: {index} · per-tick data: {out / 'ticks.csv'} · {results['elapsed_s']:.0f} s",
                  highlight=False)
    for name, why in (results.get("failed_sweeps") or {}).items():
        console.print(f"[red]sweep failed[/] {name}: {why}", highlight=False)
    verdict = results.get("budget")
    if results.get("failed_sweeps") and not (verdict and not verdict["ok"]):
        raise typer.Exit(1)
    if verdict and not verdict["ok"]:
        for c in [c for c in verdict["checks"] if not c["ok"]][:10]:
            unit = "" if c["figure"].startswith("ρ") else " ms"
            ratio = f"{c['ratio']:.2f}×" if c["ratio"] is not None else "no ratio"
            figures = ((c.get("why") or f"{c['observed']:,.2f}{unit} (limit {c['limit']:g})") if c["baseline"] is None
                       else f"{c['observed']:,.1f}{unit} against {c['baseline']:,.1f}{unit}: {ratio} "
                            f"(limit {c['limit']:g}×)")
            console.print(f"[red]over budget[/] {c['target']} on {c['pg']}: {c['figure']} at {c['point']}: {figures}",
                          highlight=False)
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
    from bench.capacity.compare import compare, machine, paired

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


if __name__ == "__main__":
    app()
