"""What the commands print in the terminal: the progress of a run, its verdict, a reproduction's sequence and
the summary table of many runs."""

from __future__ import annotations

import sys
from contextlib import contextmanager

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from bench.cli.common import console, err
from bench.orchestrate.progress import Lines, run_callback
from bench.orchestrate.records import Verdict, label
from rollup.clock import from_us


class Bar:
    """The terminal's live bar, as a progress reporter (bench/orchestrate/progress.py): one run's simulated time
    (from its start to its end, µs), or a batch's runs done of total."""

    def __init__(self, progress: Progress, span: tuple[int, int] | None = None):
        self.progress, self.span, self.task, self.failures = progress, span, None, 0

    def started(self, what: str, total: int = 1) -> None:
        size = self.span[1] - self.span[0] if self.span else total
        self.task = self.progress.add_task(what, total=size, sim="", stats="")

    def moved(self, at: int, stats: str = "", run: str = "") -> None:
        if self.span:
            self.progress.update(self.task, completed=at - self.span[0], sim=f"{from_us(at):%Y-%m-%d %H:%M}Z",
                                 stats=stats)

    def finished(self, name: str, ok: bool) -> None:
        self.failures += not ok
        self.progress.update(self.task, advance=1, stats=f"{self.failures} failed · last {name}")


def plain() -> bool:
    """A log, not a terminal (stdout piped: CI): plain progress lines instead of the live bar."""
    return not sys.stdout.isatty()


@contextmanager
def progress_bar(what: str, span: tuple[int, int]):
    """One run's progress — a live bar of simulated time, operations, ticks and checks, or plain lines in a
    log; yields the runner's progress callback."""
    if plain():
        with Lines(sys.stdout) as lines:
            lines.started(what)
            yield run_callback(lines)
        return
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[sim]}"),
                  TextColumn("{task.fields[stats]}"), TimeElapsedColumn(), console=err, transient=True) as progress:
        bar = Bar(progress, span)
        bar.started(what)
        yield run_callback(bar)


@contextmanager
def batch_progress(what: str):
    """A batch's progress: a live bar of runs done, or plain lines in a log; yields the reporter."""
    if plain():
        with Lines(sys.stdout) as lines:
            yield lines
        return
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TextColumn("{task.fields[stats]}"), TimeElapsedColumn(), TimeRemainingColumn(), console=err,
                  transient=True) as progress:
        yield _Titled(Bar(progress), what)


class _Titled:
    """A reporter whose `started` is given the command's own title (with its jobs or cluster)."""

    def __init__(self, inner: Bar, what: str):
        self.inner, self.what = inner, what

    def started(self, what: str, total: int = 1) -> None:
        self.inner.started(self.what, total)

    def moved(self, at: int, stats: str = "", run: str = "") -> None:
        self.inner.moved(at, stats, run)

    def finished(self, name: str, ok: bool) -> None:
        self.inner.finished(name, ok)


def show_verdict(v: Verdict) -> None:
    table = Table(title=f"{v.scenario} on {v.target} (PostgreSQL {v.server_version}, seed {v.seed})")
    for col in ("check", "expected", "observed", "ok"):
        table.add_column(col)
    for c in v.checks:
        table.add_row(c["name"], c["expected"], c["observed"], "[green]yes[/]" if c["ok"] else "[red]no[/]")
    console.print(table)
    zones = Table("zone", "whole-hour", "pipeline drift", "representation error", "tokens misplaced",
                  title="viewing zones at the final check (report rows)")
    for z in v.zones:
        zones.add_row(z["name"], "yes" if z["whole_hour"] else "no", str(z["pipeline_drift"]),
                      str(z["representation_error"]), f"{z['representation_error_share']:.2%}")
    console.print(zones)
    if len((v.tables or [])) > 1:  # a target that keeps more than the hourly table: each judged at its grain
        tables = Table("rollup table", "grain", "missing", "extra", "mismatched", title="rollup tables at the final check")
        for t in v.tables:
            tables.add_row(t["table"], f"{t['grain_minutes']} min", str(t["missing"]), str(t["extra"]),
                           str(t["mismatched"]))
        console.print(tables)
    a = v.attribution or {}
    if a.get("keys"):
        by = Table("catalogue id", "bad keys it explains", title=f"attribution of {a['keys']} bad key(s)")
        for x, n in a["by_id"].items():
            by.add_row(x, str(n))
        by.add_row("[red]unexplained[/]" if a["unexplained_keys"] else "unexplained", str(a["unexplained_keys"]))
        for x, why in a.get("state", {}).items():  # not a key's: the state row's
            by.add_row(x, f"(state row: {why})")
        console.print(by)
    for b in v.bad_keys[:5]:
        k = b["key"]
        console.print(f"[red]{b['status']}[/] {k['bucket_hour']} agent={k['agent_id'][:8]} "
                      f"runtime={k['runtime_id'][:8]} project={(k['project_id'] or '-')[:8]} "
                      f"{k['provider']}/{k['model']} deltas={b['deltas']}", highlight=False)
        for o in b["ops"]:
            console.print(f"    op #{o['i']} {o['f']} at {o['at']} ({o['outcome']})", highlight=False)
    ops = v.operations
    console.print(f"{ops['total']} operations ({ops.get('ok', 0)} ok, {ops.get('fail', 0)} failed), "
                  f"{v.ticks['count']} ticks; history sha256 {v.history_sha256[:16]}…; report {v.report}",
                  highlight=False)
    if v.coverage:
        console.print(f"covered: {v.coverage['line']}", highlight=False)
    if not v.ok:
        for c in v.checks:
            if not c["ok"]:  # on one line each, whatever the terminal's width: what failed, and how
                console.print(f"[red]failed[/] {c['name']}: {c['observed']}", highlight=False, soft_wrap=True)
        console.print(f"[bold red]FAIL[/] — replay with: {v.replay}", highlight=False)


def show_script(v: Verdict) -> None:
    """A reproduction's operation sequence: the shortest that shows it (the world it acts on is implied)."""
    table = Table("#", "simulated time", "step", "details", title=f"{v.scenario}: the sequence")
    for s in v.script:
        details = ", ".join(f"{k}={str(val)[:12]}" for k, val in s.items() if k not in ("i", "at", "op", "session"))
        session = f" [session {s['session']}]" if s["session"] else ""
        table.add_row(str(s["i"]), s["at"][:19].replace("T", " "), s["op"] + session, details)
    console.print(table)


def summary(verdicts: list[Verdict], title: str) -> None:
    seeds, servers = len({v.seed for v in verdicts}) > 1, len({v.server for v in verdicts}) > 1
    based = any(v.baseline is not None for v in verdicts)  # judged against accepted ids: known / new / fixed
    table = Table("scenario", *(["seed"] if seeds else []), *(["server"] if servers else []),
                  *(["baseline"] if based else []), "expected", "observed", "ok", title=title)
    for v in verdicts:
        check = v.checks[0]
        observed = ", ".join(c["observed"] for c in v.checks if not c["ok"]) or check["observed"]
        status = label(v)
        colour = {"new": "red", "fixed": "yellow", "known": "cyan"}.get(status.split(" ")[0], "green")
        table.add_row(v.scenario, *([str(v.seed)] if seeds else []), *([v.server] if servers else []),
                      *([f"[{colour}]{status}[/]"] if based else []), check["expected"], observed,
                      "[green]yes[/]" if v.ok else "[red]no[/]")
    console.print(table)




def span_of(sc) -> tuple[int, int]:
    from bench.orchestrate.execute import span

    return span(sc)
