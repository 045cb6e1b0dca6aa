"""One scenario run end to end — operations, run, verdict, files — shared by run, replay, repro and gate."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path

import psycopg

from bench.generator import generate
from bench.ops import Op
from bench.runner import run, scripted_ops
from bench.scenario import Scenario, load
from bench.verdict import evaluate, markdown
from rollup.migrations import MIGRATIONS_ROOT, Target

SCENARIOS = MIGRATIONS_ROOT.parent / "scenarios"


class ServerLost(RuntimeError):
    """The server went away in the middle of a run (the environment's failure, not the target's)."""


def reachable(server) -> bool:
    try:
        with psycopg.connect(server.admin_conninfo, connect_timeout=5):
            return True
    except psycopg.Error:
        return False


def ops_for(sc: Scenario) -> list[Op]:
    """A scripted scenario's steps, or the generator's stream."""
    return scripted_ops(sc) if sc.steps else generate(sc)


def find_repro(name: str) -> Path:
    """scenarios/repro/<ID>.toml, or scenarios/peer/<name>.toml, by name (case-insensitive)."""
    for folder in ("repro", "peer"):
        for path in sorted((SCENARIOS / folder).glob("*.toml")):
            if path.stem.lower() == name.lower():
                return path
    known = sorted(p.stem for f in ("repro", "peer") for p in (SCENARIOS / f).glob("*.toml"))
    raise FileNotFoundError(f"no reproduction {name!r}; known: {', '.join(known)}")


def run_scenario(server, path: Path | None, target: str, report_dir: Path, *, sc: Scenario | None = None,
                 text: str | None = None, ops: Iterable[Op] | None = None, replaying: bool = False,
                 hint: str = "", on_progress: Callable | None = None, json_file: Path | None = None) -> dict:
    """Run a scenario (by path, or given) on `target`; write its history, JSON and Markdown; return the verdict."""
    if sc is None:
        sc, text = load(path), path.read_text()
    tgt = Target.resolve(target)
    stem = f"{sc.name}-{Path(target).name if '/' in target else target}-seed{sc.seed}"
    history_path = report_dir / f"{stem}.history.jsonl"
    try:
        result = run(server, sc, text, tgt, history_path, ops if ops is not None else ops_for(sc), replaying,
                     on_progress)
    except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
        if reachable(server):
            raise
        raise ServerLost(f"the server went away mid-run ({' '.join(str(exc).split())[:160]}); the history so far, "
                         f"replayable up to its last completed operation: {history_path}") from exc
    v = evaluate(result)
    v["replay"] = (hint or "rollup-bench replay {history} --target {target}").format(history=history_path,
                                                                                    target=target)
    report_dir.mkdir(parents=True, exist_ok=True)
    v["report"] = str(report_dir / f"{stem}.md")
    (report_dir / f"{stem}.json").write_text(json.dumps(v, indent=2, default=str))
    (report_dir / f"{stem}.md").write_text(markdown(v))
    if json_file:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(json.dumps(v, indent=2, default=str))
    return v
