"""A batch as a command asks for it — a gate's scenarios or a seed sweep, on one server or a matrix of them: the
requests made from its options, run over the process pool or a Dask cluster, the baseline settled, and the
batch's JSON document. What is printed of it is the command line's (bench/cli/matrix.py)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from bench.judge.baseline import EVERY, settle
from bench.judge.record import Verdict
from bench.orchestrate.batch import Result, no_verdicts, run_requests, stem_dir, verdicts
from bench.orchestrate.request import NoVerdict, RunRequest, ScenarioText, ServerSpec
from bench.orchestrate.shards import Shard, record

REPLAY = "rollup-bench replay {history} --target {target}{flags}"  # a batch run's replay line ({flags}: its own)


@dataclass(frozen=True)
class Judging:
    """What every run of a batch is judged against: per scenario name, expectation fields overriding its own;
    accepted catalogue ids (a baseline; `strict`: an accepted id no run shows fails); `writing`: judged against
    the whole catalogue, to write the ids the runs show as a baseline."""

    expect: dict[str, dict] = field(default_factory=dict)
    accept: tuple[str, ...] | None = None
    strict: bool = False
    writing: bool = False


@dataclass(frozen=True)
class BatchSpec:
    """The runs (scenario, seed; None: the scenario's) on every server, the target and read side, where reports
    go, the batch's title, the replay line's template ({seed}, {flags}, {history}, {target}), how runs are
    judged, the slice of it to run (`shard`), whether to stop at the first failure (a campaign)."""

    runs: list[tuple[ScenarioText, int | None]]
    target: str
    servers: list[ServerSpec]
    read_side: str | None = None
    report_dir: Path = Path("reports")
    title: str = "batch"
    hint: str = ""
    judging: Judging = field(default_factory=Judging)
    shard: Shard | None = None
    until_failure: bool = False

    def requests(self) -> list[RunRequest]:
        """Every run on every server, in the batch's order (the shard's slice taken from it by position)."""
        backends = [s.backend for s in self.servers]
        j = self.judging

        def flags(backend: str) -> str:
            return (f" --read-side {self.read_side}" if self.read_side else "") + \
                (f" --pg {backend}" if backend != "embedded" else "")

        return [RunRequest(text, self.target, seed, server, self.read_side,
                           stem_dir(self.report_dir, server.backend, backends),
                           j.expect.get(text.stem), EVERY if j.writing else j.accept,
                           (self.hint or REPLAY).replace("{seed}", str(seed)).replace("{flags}", flags(server.backend)))
                for text, seed in self.runs for server in self.servers]


@dataclass
class Outcome:
    """A batch's results: the requests run (a shard's slice), each one's result (None: never started)."""

    spec: BatchSpec
    requests: list[RunRequest]
    results: list[Result | None]
    total: int  # requests in the whole batch (a shard runs some of them)
    fixed: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"{self.spec.title} (shard {self.spec.shard})" if self.spec.shard else self.spec.title

    @property
    def verdicts(self) -> list[Verdict]:
        return verdicts(self.results)

    @property
    def errors(self) -> list[NoVerdict]:
        return no_verdicts(self.results)

    @property
    def ok(self) -> bool:
        return all(v.ok for v in self.verdicts) and not self.errors

    def document(self) -> dict:
        """The batch's JSON: {target, ok, runs[, errors][, shard][, baseline]}."""
        extra = {"errors": [{"scenario": e.request.scenario.stem, "seed": e.request.seed,
                             "server": e.request.server.backend, "code": e.code, "error": e.error}
                            for e in self.errors]} if self.errors else {}
        shard, j = self.spec.shard, self.spec.judging
        if shard:
            extra["shard"] = record(shard, self.spec.title, self.total, shard.indexes(self.total), self.results)
        if j.accept is not None:  # (a shard's fixed ids are settled when the shards are merged)
            extra["baseline"] = {"accepted": list(j.accept), "fixed": self.fixed, "strict": j.strict}
        return {"target": self.spec.target, "ok": self.ok, "runs": self.verdicts, **extra}


def failed(result: Result) -> bool:
    """A run that did not meet its expectations, or gave no verdict: a campaign stops there."""
    return isinstance(result, NoVerdict) or not result.ok


def first_failure(results: list[Result | None]) -> int | None:
    """The position of the first failing run, in the batch's (seed) order."""
    return next((i for i, r in enumerate(results) if r is not None and failed(r)), None)


def run_batch(spec: BatchSpec, jobs: int, cluster: str | None = None, reporter=None) -> Outcome:
    """The batch run over `jobs` workers of this machine (or a Dask `cluster`), the baseline settled;
    `reporter` (bench/orchestrate/progress.py) told each run's end and, off a cluster, its simulated time."""
    todo = spec.requests()
    total = len(todo)
    if spec.shard:
        todo = [todo[i] for i in spec.shard.indexes(total)]
    stop = failed if spec.until_failure else None
    if reporter:
        reporter.started(f"{spec.title} on {spec.target}" + (f" (shard {spec.shard})" if spec.shard else ""), len(todo))

    def on_done(req: RunRequest, result: Result) -> None:
        if reporter:
            reporter.finished(req.name, not failed(result))

    if cluster:
        from bench.orchestrate.cluster import run_on_cluster

        results = run_on_cluster(todo, cluster, jobs, on_done, stop)
    else:
        results = run_requests(todo, jobs, on_done, stop, reporter and (lambda name, at: reporter.moved(at, "", name)))
    out = Outcome(spec, todo, results, total)
    j = spec.judging
    if j.accept is not None and not j.writing and not spec.shard:
        out.fixed = settle(out.verdicts, j.accept, j.strict)
    return out


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
