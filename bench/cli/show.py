"""What the commands print in the terminal: the progress of a run, its verdict, a reproduction's sequence and
the summary table of many runs."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bench.cli.common import console, err
from bench.judge.baseline import label
from rollup.clock import from_us, to_us


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
    if v.get("coverage"):
        console.print(f"covered: {v['coverage']['line']}", highlight=False)
    if not v["ok"]:
        for c in v["checks"]:
            if not c["ok"]:  # on one line each, whatever the terminal's width: what failed, and how
                console.print(f"[red]failed[/] {c['name']}: {c['observed']}", highlight=False, soft_wrap=True)
        console.print(f"[bold red]FAIL[/] — replay with: {v['replay']}", highlight=False)


def show_script(v: dict) -> None:
    """A reproduction's operation sequence: the shortest that shows it (the world it acts on is implied)."""
    table = Table("#", "simulated time", "step", "details", title=f"{v['scenario']}: the sequence")
    for s in v["script"]:
        details = ", ".join(f"{k}={str(val)[:12]}" for k, val in s.items() if k not in ("i", "at", "op", "session"))
        session = f" [session {s['session']}]" if s["session"] else ""
        table.add_row(str(s["i"]), s["at"][:19].replace("T", " "), s["op"] + session, details)
    console.print(table)


def summary(verdicts: list[dict], title: str) -> None:
    seeds, servers = len({v["seed"] for v in verdicts}) > 1, len({v.get("server") for v in verdicts}) > 1
    based = any("baseline" in v for v in verdicts)  # judged against accepted ids: known / new / fixed
    table = Table("scenario", *(["seed"] if seeds else []), *(["server"] if servers else []),
                  *(["baseline"] if based else []), "expected", "observed", "ok", title=title)
    for v in verdicts:
        check = v["checks"][0]
        observed = ", ".join(c["observed"] for c in v["checks"] if not c["ok"]) or check["observed"]
        status = label(v)
        colour = {"new": "red", "fixed": "yellow", "known": "cyan"}.get(status.split(" ")[0], "green")
        table.add_row(v["scenario"], *([str(v["seed"])] if seeds else []), *([v["server"]] if servers else []),
                      *([f"[{colour}]{status}[/]"] if based else []), check["expected"], observed,
                      "[green]yes[/]" if v["ok"] else "[red]no[/]")
    console.print(table)


