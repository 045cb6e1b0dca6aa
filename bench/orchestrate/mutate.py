"""Mutation scoring: how strong a set of runs (the gate's generated runs, or scenarios given) is on a chain.

Each mutant (rollup/mutation) is the chain with one file edited, written as an overlay directory that holds only
that file: the target `base dirs,overlay` migrates from a template of the unchanged prefix and applies the
mutated file and those after it (rollup.migrations.Templates). The unmutated chain runs first, once; only the runs
it passes can kill, and they go cheapest first (by its wall time). Then the runs go in rounds — the first run for
every mutant, the second for those still alive, … — so a mutant stops at its first kill while the batch keeps
every worker busy. A mutant that does not
migrate is stillborn (not counted); one whose edit no run can reach (a definition the chain drops or replaces
before any run writes) is unreached, set aside after the first run (not counted); one listed in the equivalents
file is not run (not counted).

The one dependency on the batch machinery is `run_batch` below (requests in, verdicts out, in order)."""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path

from rollup.migrations import READ_SIDES, Target  # noqa: F401 (the command's too)
from rollup.mutation import OPERATOR_NAMES, Mutant, generate, sample  # noqa: F401 (the command's too)
from rollup.mutation.reach import superseded

KILLED, SURVIVED, STILLBORN, EQUIVALENT, ERROR = "killed", "survived", "stillborn", "equivalent", "error"
UNREACHED = "unreached"  # an edit of a definition every run's chain supersedes before it writes (not counted)


class MutateError(ValueError):
    """Bad input to a mutation run: an equivalents file, a file filter that selects nothing, a base that fails."""


@dataclass(frozen=True)
class Run:
    """One run every mutant may face: a scenario file at a seed (None: the file's own)."""

    scenario: Path
    seed: int | None = None

    @property
    def label(self) -> str:
        return self.scenario.stem + (f" seed {self.seed}" if self.seed is not None else "")


@dataclass(frozen=True)
class Request:
    """A run of one chain: what `run_batch` is asked for."""

    run: Run
    target: str  # a target spec: directories joined by commas
    report_dir: Path
    expect: dict  # the base target's expectation fields, so a mutant is judged as its chain would be


@dataclass
class Outcome:
    mutant: Mutant
    status: str = SURVIVED
    passed: list[str] = field(default_factory=list)  # the runs it passed, by label
    killed_by: str | None = None
    detail: str = ""  # the failed checks, the migration's error, or the equivalence's reason

    def as_dict(self, text: str) -> dict:
        d = {**self.mutant.as_dict(), "status": self.status, "passed": self.passed, "killed_by": self.killed_by,
             "detail": self.detail}
        if self.status == SURVIVED:
            d["diff"] = self.mutant.diff(text)
        return d


def parse_equivalents(path: Path) -> dict[str, str]:
    """An equivalents file: [[equivalent]] tables of id and reason. {id: reason}."""
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise MutateError(f"--equivalents {path}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise MutateError(f"{path}: not valid TOML ({exc})") from None
    unknown = set(data) - {"equivalent"}
    if unknown:
        raise MutateError(f"{path}: unknown key {sorted(unknown)[0]!r} (expected [[equivalent]] tables)")
    found: dict[str, str] = {}
    for n, e in enumerate(data.get("equivalent", []), 1):
        if not isinstance(e, dict) or set(e) != {"id", "reason"} or not all(isinstance(v, str) for v in e.values()):
            raise MutateError(f"{path}: equivalent[{n}] must have exactly id and reason, both strings")
        if not e["reason"].strip():
            raise MutateError(f"{path}: equivalent[{n}] ({e['id']}): the reason is empty")
        found[e["id"]] = e["reason"]
    return found


def selected(name: str, patterns: list[str]) -> bool:
    """`--files`: globs on the file name (110_*) or number ranges (105-114)."""
    num = name.split("_", 1)[0]
    for p in patterns:
        lo, dash, hi = p.partition("-")
        if dash and lo.isdigit() and hi.isdigit() and num.isdigit() and int(lo) <= int(num) <= int(hi):
            return True
        if fnmatch(name, p) or fnmatch(name, p + "_*") or p == num:
            return True
    return False


def mutants_of(target: Target, files: list[str] | None = None,
               operators: set[str] | None = None) -> tuple[list[Mutant], dict[str, str], int]:
    """Every mutant of the target's up files (those `files` selects), the files' texts by name, and how many
    proposed edits were dropped for not parsing."""
    out, texts, malformed = [], {}, 0
    for m in target.migrations():
        if files and not selected(m.up.name, files):
            continue
        texts[m.up.name] = m.up.read_text()
        found, bad = generate(m.up.name, texts[m.up.name], operators)
        out += found
        malformed += bad
    if files and not texts:
        raise MutateError(f"--files {','.join(files)}: selects none of the target's migrations")
    return out, texts, malformed


def slug(mutant_id: str) -> str:
    return mutant_id.replace(":", "-").replace(".", "_")


@dataclass
class Scoring:
    """What a mutation run needs: the chain, its mutants, the runs, where files go; and the batch to run on."""

    target: Target
    mutants: list[Mutant]
    texts: dict[str, str]
    runs: list[Run]
    work_dir: Path
    run_batch: Callable[[list[Request]], list[dict]]
    equivalents: dict[str, str] = field(default_factory=dict)
    on_round: Callable[[str, int, int], None] = lambda label, alive, total: None
    keep_runs: bool = False
    contradicted: list[str] = field(default_factory=list)  # killed, yet called unreached (see `unreached`)
    resume: bool = False  # go on from work_dir/progress.json (see `restore`)

    def base_spec(self) -> str:
        return ",".join(str(d.resolve()) for d in self.target.dirs)

    def expect(self, run: Run) -> dict:
        from bench.workload.scenario import load

        e = load(run.scenario).expectation(self.target.name)
        return {f.name: getattr(e, f.name) for f in dataclasses.fields(e)}

    def overlay(self, m: Mutant) -> str:
        d = self.work_dir / "mutants" / slug(m.id)
        d.mkdir(parents=True, exist_ok=True)
        (d / m.file).write_text(m.apply(self.texts[m.file]))
        return f"{self.base_spec()},{d}"

    def checkpoint(self, outcomes: dict[str, Outcome], done: list[str], rounds: int, alive: list[Mutant],
                   seconds: float) -> None:
        """progress.json in the work folder after each round: where a long mutation run stands, should it stop,
        and what `--resume` goes on from (the runs done, in order; every status; the seconds spent)."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        (self.work_dir / "progress.json").write_text(json.dumps({
            "rounds": f"{len(done)}/{rounds}", "done": done, "seconds": round(seconds, 1),
            "alive": [m.id for m in alive], "total": tally(list(outcomes.values())),
            "mutants": [{**o.mutant.as_dict(), "status": o.status, "passed": o.passed, "killed_by": o.killed_by,
                         "detail": o.detail} for o in outcomes.values()]}, indent=1))

    def restore(self, outcomes: dict[str, Outcome]) -> tuple[list[str], float]:
        """--resume: a stopped run's progress.json, its statuses put back; the runs it finished (labels, in
        order) and the seconds it spent on mutants."""
        path = self.work_dir / "progress.json"
        try:
            saved = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise MutateError(f"--resume: no progress to go on from in {path} ({type(exc).__name__})") from None
        by_id = {m["id"]: m for m in saved.get("mutants", [])}
        if set(by_id) != set(outcomes):
            raise MutateError(f"--resume: {path} is of another selection ({len(by_id)} mutants there, "
                              f"{len(outcomes)} here): select the same files, operators, ids and sample")
        for mid, o in outcomes.items():
            m = by_id[mid]
            o.status, o.passed, o.killed_by, o.detail = m["status"], list(m["passed"]), m["killed_by"], m.get(
                "detail", "")
        done = saved.get("done") or next((m["passed"] for m in by_id.values() if m["status"] == SURVIVED), [])
        return done, float(saved.get("seconds", 0.0))

    def reach(self, runs: list[Run]) -> Callable[[Mutant], str | None]:
        """Why no run of `runs` reaches a mutant's edit (rollup/mutation/reach.py), or None when one may."""
        from bench.workload.scenario import load

        chain = [(m.up.name, m.up.read_text()) for m in self.target.migrations()]
        tos = {(sc.repro.migrate_to if sc.repro else None) for sc in (load(r.scenario) for r in runs)}
        spans = [superseded(chain, to) for to in tos]

        def why(m: Mutant) -> str | None:
            found = [next((x for x in sp.get(m.file, []) if x.start <= m.start < x.end), None) for sp in spans]
            if None in found:
                return None
            return f"{found[0].what} is {found[0].how} by {found[0].by} before any run writes"
        return why

    def unreached(self, alive: list[Mutant], outcomes: dict[str, Outcome], runs: list[Run]) -> list[Mutant]:
        """After the first run (which told the stillborn apart): the mutants no run can reach — their edit is in
        a definition the chain drops or replaces before any run writes (rollup/mutation/reach.py) — set aside,
        not counted; the others go on. A killed mutant the analysis calls unreached would prove it unsound: the
        result lists any as `reach_contradicted`."""
        why = self.reach(runs)
        self.contradicted = [m.id for m in self.mutants if outcomes[m.id].status == KILLED and why(m)]
        still = []
        for m in alive:
            if (reason := why(m)) is None:
                still.append(m)
            else:
                outcomes[m.id].status, outcomes[m.id].detail = UNREACHED, reason
                outcomes[m.id].passed.clear()
        return still

    def score(self) -> dict:
        t0 = time.perf_counter()
        expects = {r: self.expect(r) for r in self.runs}
        base = self.run_batch([Request(r, self.base_spec(), self.work_dir / "base", expects[r]) for r in self.runs])
        errors = [v for v in base if "error" in v]
        if errors:
            raise MutateError(f"the unmutated chain could not be run: {errors[0]['error'].strip().splitlines()[-1]}")
        # the cheapest first: most mutants die in their first run, and a cheap kill frees the worker soonest
        usable = [r for r, v in sorted(zip(self.runs, base), key=lambda rv: rv[1].get("wall_seconds", 0))
                  if v["ok"]]
        if not usable:
            raise MutateError("the unmutated chain fails every run: no run can kill a mutant")
        base_seconds = time.perf_counter() - t0
        outcomes = {m.id: Outcome(m) for m in self.mutants}
        for m in self.mutants:
            if m.id in self.equivalents:
                outcomes[m.id].status, outcomes[m.id].detail = EQUIVALENT, self.equivalents[m.id]
        done, prior = self.restore(outcomes) if self.resume else ([], 0.0)
        if any(label not in {r.label for r in usable} for label in done):
            raise MutateError(f"--resume: the runs done ({', '.join(done)}) are not among this run's usable runs")
        usable = sorted(usable, key=lambda r: done.index(r.label) if r.label in done else len(done))
        if done:  # a progress file written before statuses kept their reasons: the unreached get theirs again
            why = self.reach(usable)
            for o in outcomes.values():
                if o.status == UNREACHED and not o.detail:
                    o.detail = why(o.mutant) or ""
        alive = [m for m in self.mutants if outcomes[m.id].status == SURVIVED]
        t1 = time.perf_counter() - prior
        for n, run in enumerate(usable):
            if n < len(done):
                continue
            if not alive:
                break
            self.on_round(run.label, len(alive), n + 1)
            specs = {m.id: self.overlay(m) for m in alive}
            results = self.run_batch([Request(run, specs[m.id], self.work_dir / "runs" / slug(m.id), expects[run])
                                      for m in alive])
            still = []
            for m, v in zip(alive, results):
                o = outcomes[m.id]
                if "error" in v and v["error"].startswith("Traceback"):  # the run broke where the base's did not
                    o.status, o.killed_by = KILLED, run.label
                    o.detail = f"the run crashed: {v['error'].strip().splitlines()[-1]}"
                elif "error" in v:  # a migration that failed (1), or the environment's failure (2)
                    o.status = STILLBORN if v["code"] == 1 else ERROR
                    o.detail = v["error"].strip().splitlines()[-1]
                elif not v["ok"]:
                    o.status, o.killed_by = KILLED, run.label
                    o.detail = "; ".join(f"{c['name']}: {c['observed']}" for c in v["checks"] if not c["ok"])
                else:
                    o.passed.append(run.label)
                    still.append(m)
                if o.status != SURVIVED and not self.keep_runs:
                    shutil.rmtree(self.work_dir / "runs" / slug(m.id), ignore_errors=True)
            alive = still if n else self.unreached(still, outcomes, usable)
            self.checkpoint(outcomes, [r.label for r in usable[:n + 1]], len(usable), alive, time.perf_counter() - t1)
        seconds = time.perf_counter() - t1
        scored = [o for o in outcomes.values() if o.status != EQUIVALENT]
        return summarize(self, base, usable, list(outcomes.values()), base_seconds, seconds, len(scored))


def tally(outcomes: list) -> dict:
    """Counts by status and the score, of Outcomes or of the report's mutant dicts."""
    status = [o["status"] if isinstance(o, dict) else o.status for o in outcomes]
    counts = {s: status.count(s) for s in (KILLED, SURVIVED, STILLBORN, UNREACHED, EQUIVALENT, ERROR)}
    judged = counts[KILLED] + counts[SURVIVED]
    return {"mutants": len(outcomes), **counts, "score": round(counts[KILLED] / judged, 4) if judged else None}


def summarize(s: Scoring, base: list[dict], usable: list[Run], outcomes: list[Outcome], base_seconds: float,
              seconds: float, scored: int) -> dict:
    by_op: dict[str, list[Outcome]] = {}
    for o in outcomes:
        by_op.setdefault(o.mutant.operator, []).append(o)
    unused = [r.label for r in s.runs if r not in usable]
    return {
        "target": s.target.name, "dirs": [str(d) for d in s.target.dirs], "read_side": s.target.read_side,
        "runs": [r.label for r in s.runs], "base_failed": unused,
        "total": tally(outcomes), "by_operator": {op: tally(os_) for op, os_ in sorted(by_op.items())},
        "by_file": {f: tally([o for o in outcomes if o.mutant.file == f]) for f in s.texts},
        "mutants": [o.as_dict(s.texts[o.mutant.file]) for o in outcomes],
        "equivalents_unknown": sorted(set(s.equivalents) - {o.mutant.id for o in outcomes}),
        "reach_contradicted": s.contradicted,
        "seconds": {"base": round(base_seconds, 1), "mutants": round(seconds, 1)},
        "mutants_per_minute": round(scored / (seconds / 60), 2) if seconds > 0 and scored else None,
    }


def merge(results: list[dict]) -> dict:
    """The shards of one mutation run (--shard K/N, each a report's JSON) as the whole run's report: every
    mutant once, the tallies again; the seconds add up (the shards' wall times, not the merged run's)."""
    if not results:
        raise MutateError("nothing to merge")
    shards = sorted(r.get("shard", {}).get("k", 0) for r in results)
    n = {r.get("shard", {}).get("n") for r in results}
    if len(n) != 1 or None in n or shards != list(range(1, next(iter(n)) + 1)):
        raise MutateError(f"expected the shards 1…N of one run, each once; got {shards} of {sorted(map(str, n))}")
    if len({r["target"] for r in results}) != 1 or len({tuple(r["runs"]) for r in results}) != 1:
        raise MutateError("the shards are of different targets or runs")
    mutants = [m for r in results for m in r["mutants"]]
    merged = {**results[0], "mutants": mutants, "total": tally(mutants)}
    merged.pop("shard")
    ops = sorted({m["operator"] for m in mutants})
    merged["by_operator"] = {op: tally([m for m in mutants if m["operator"] == op]) for op in ops}
    files = dict.fromkeys(m["file"] for m in mutants)
    merged["by_file"] = {f: tally([m for m in mutants if m["file"] == f]) for f in files}
    merged["seconds"] = {k: round(sum(r["seconds"][k] for r in results), 1) for k in ("base", "mutants")}
    merged["mutants_per_minute"] = None
    merged["equivalents_unknown"] = sorted(set.intersection(*(set(r["equivalents_unknown"]) for r in results)))
    merged["reach_contradicted"] = sorted({x for r in results for x in r.get("reach_contradicted", [])})
    return merged


def run_batch(requests: list[Request], *, workers: int, server, read_side: str | None, cluster: str | None = None,
              on_done: Callable[[Request, dict], None] | None = None) -> list[dict]:
    """The requests' verdicts in order, each a verdict's JSON or {"error", "code"}: the one place that speaks to
    the batch machinery (bench.orchestrate.batch, bench.orchestrate.cluster). `server`: a ServerSpec."""
    from bench.orchestrate.batch import run_requests
    from bench.orchestrate.request import NoVerdict, RunRequest, ScenarioText

    reqs = [RunRequest(ScenarioText.read(r.run.scenario), r.target, r.run.seed, server, read_side, r.report_dir,
                       r.expect, hint="rollup-bench replay {history} --target {target}") for r in requests]
    key = lambda q: (str(q.report_dir), q.seed, q.scenario.text, q.target)  # noqa: E731 (a shipped copy too)
    by_req = {key(q): r for q, r in zip(reqs, requests)}

    def plain(result) -> dict:
        if result is None:
            return {"error": "not run", "code": 2}
        if isinstance(result, NoVerdict):
            return {"error": result.error, "code": result.code}
        return result.to_json()

    done = (lambda req, v: on_done(by_req[key(req)], plain(v))) if on_done else None
    if cluster:
        from bench.orchestrate.cluster import run_on_cluster

        results = run_on_cluster(reqs, cluster, workers, on_done=done)
    else:
        results = run_requests(reqs, workers, on_done=done)
    return [plain(r) for r in results]
