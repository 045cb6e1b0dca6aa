"""`rollup-bench merge`: the JSON verdicts of a batch's shards (`--shard K/N`, bench/orchestrate/shards.py) joined into
the batch's own — its runs in the unsharded order — with its JUnit, Markdown summary and exit code. Whole batches
(no --shard; e.g. one CI job per server) join too, in the order given. Shards of different targets or batches,
the same shard twice, a missing shard, or one run in two files are refused: the result would not be the batch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from bench.cli.common import JsonOpt, JunitOpt, SummaryOpt, app, console, err
from bench.cli.errors import fail
from bench.cli.matrix import write_ci
from bench.cli.show import summary
from bench.judge.baseline import settle
from bench.workload.bounds import SEEDS_MAX, SHARDS_MAX


def _read(path: Path) -> dict:
    try:
        doc = json.loads(path.read_text())
    except OSError as exc:
        raise fail(f"{path}: cannot read it ({exc.strerror or exc})")
    except ValueError as exc:
        raise fail(f"{path}: not JSON ({exc})")
    if not (isinstance(doc, dict) and isinstance(doc.get("runs"), list) and "target" in doc):
        raise fail(f"{path}: not a batch's JSON (written by gate or run --seeds with --json)")
    if (problem := _malformed(doc)) is not None:
        raise fail(f"{path}: not a batch's JSON: {problem}")
    return doc


# What merge reads of each run, each error and a shard's record (a hand-made file may lack any of it).
_RUN = {"scenario": str, "seed": int, "ok": bool}
_SHOWN = {"server": str, "report": str, "replay": str, "checks": list}  # what the summary shows of a run
_ERROR = {"scenario": str, "seed": (int, type(None)), "server": str, "code": int, "error": str}
_SHARD = {"k": int, "n": int, "title": str, "jobs": int, "runs": list, "errors": list}


def _wrong(entry: object, shape: dict) -> str | None:
    if not isinstance(entry, dict):
        return f"expected a table, got {type(entry).__name__}"
    bad = [k for k, t in shape.items() if not isinstance(v := entry.get(k), t) or isinstance(v, bool) and t is int]
    return f"{', '.join(bad)} missing or of the wrong type" if bad else None


def _malformed(doc: dict) -> str | None:
    """What a hand-made (or truncated) batch JSON lacks that merge needs; None if nothing. Bounds as --shard's."""
    for key, shape in (("runs", _RUN), ("errors", _ERROR)):
        for n, entry in enumerate(doc.get(key, []) if isinstance(doc.get(key, []), list) else [None]):
            if (wrong := _wrong(entry, shape)) is not None:
                return f"{key}[{n}]: {wrong}"
    if "shard" not in doc:
        return None
    s = doc["shard"]
    if (wrong := _wrong(s, _SHARD)) is not None:
        return f"shard: {wrong}"
    if not 1 <= s["k"] <= s["n"] <= SHARDS_MAX or not 0 <= s["jobs"] <= SEEDS_MAX * 100:
        return f"shard: {s['k']}/{s['n']} of {s['jobs']} runs is out of range (1 ≤ K ≤ N ≤ {SHARDS_MAX})"
    positions = s["runs"] + s["errors"]
    if not all(type(i) is int and 0 <= i < s["jobs"] for i in positions) or len(s["runs"]) != len(doc["runs"]):
        return "shard: its runs and errors must be the positions of the file's runs among the batch's jobs"
    return None


def _run_id(v: dict) -> tuple:
    return v["scenario"], v["seed"], v.get("server"), v.get("read_side")


def join(files: list[Path]) -> tuple[dict, str]:
    """The merged batch JSON ({target, ok, runs[, errors]}) and its title; a bad set of files is a one-line
    error (exit 2)."""
    docs = [(p, _read(p)) for p in files]
    (first, d0), *rest = docs
    for p, d in rest:
        if d["target"] != d0["target"]:
            raise fail(f"{p} is on target {d['target']!r}, {first} on {d0['target']!r}: shards of different "
                       "targets do not merge")
        if ("shard" in d) != ("shard" in d0):
            sharded, whole = (p, first) if "shard" in d else (first, p)
            raise fail(f"{sharded} is a shard ({docs_shard(d if 'shard' in d else d0)}) and {whole} a whole batch: "
                       "they do not merge")
    title = "merged"
    if "shard" in d0:
        title = _check_shards(docs)
    seen: dict[tuple, Path] = {}
    for p, d in docs:
        for v in d["runs"]:
            if _run_id(v) in seen:
                raise fail(f"{seen[_run_id(v)]} and {p} overlap: both ran {v['scenario']} seed {v['seed']} on "
                           f"{v.get('server')}")
            seen[_run_id(v)] = p
    if "shard" in d0:  # back in the unsharded order: by each run's position in the whole batch
        runs = [v for _, v in sorted((i, v) for _, d in docs for i, v in zip(d["shard"]["runs"], d["runs"]))]
        errors = [e for _, e in sorted((i, e) for _, d in docs for i, e in zip(d["shard"]["errors"],
                                                                                d.get("errors", [])))]
    else:
        runs = [v for _, d in docs for v in d["runs"]]
        errors = [e for _, d in docs for e in d.get("errors", [])]
    base = _baseline(docs, runs, sharded="shard" in d0)
    merged = {"target": d0["target"], "ok": all(v["ok"] for v in runs) and not errors, "runs": runs}
    return merged | ({"errors": errors} if errors else {}) | ({"baseline": base} if base else {}), title


def _baseline(docs: list[tuple[Path, dict]], runs: list[dict], sharded: bool) -> dict | None:
    """The accepted ids the files were judged against (the same in every file). What is fixed is a fact of the
    whole batch — no run of it shows the id — so shards, which do not settle it, are settled here."""
    (first, d0), bases = docs[0], [d.get("baseline") for _, d in docs]
    for (p, _), b in zip(docs, bases):
        if (b or {}).get("accepted") != (bases[0] or {}).get("accepted"):
            raise fail(f"{p} and {first} were judged against different accepted ids: they do not merge")
    if bases[0] is None:
        return None
    accepted, strict = tuple(bases[0]["accepted"]), bases[0]["strict"]
    fixed = settle(runs, accepted, strict) if sharded else sorted(set.intersection(*(set(b["fixed"]) for b in bases)))
    return {"accepted": list(accepted), "fixed": fixed, "strict": strict}


def docs_shard(d: dict) -> str:
    return f"{d['shard']['k']}/{d['shard']['n']}"


def _check_shards(docs: list[tuple[Path, dict]]) -> str:
    """Every shard of one split of one batch, once each; the batch's title."""
    (first, d0), by_k = docs[0], {}
    s0 = d0["shard"]
    for p, d in docs:
        s = d["shard"]
        if (s["n"], s["title"], s["jobs"]) != (s0["n"], s0["title"], s0["jobs"]):
            raise fail(f"{p} is shard {docs_shard(d)} of {s['title']!r} ({s['jobs']} runs), {first} shard "
                       f"{docs_shard(d0)} of {s0['title']!r} ({s0['jobs']} runs): not one batch's shards")
        if s["k"] in by_k:
            raise fail(f"{by_k[s['k']]} and {p} are both shard {docs_shard(d)}: overlapping shards")
        by_k[s["k"]] = p
    missing = [f"{k}/{s0['n']}" for k in range(1, s0["n"] + 1) if k not in by_k]
    if missing:
        raise fail(f"shard(s) {', '.join(missing)} missing: the merge would not be the whole batch")
    return s0["title"]


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
    merged, title = join(files)
    runs, errors = merged["runs"], merged.get("errors", [])
    for v in runs:
        if (wrong := _wrong(v, _SHOWN)) or not all(isinstance(c, dict) and {"expected", "observed", "ok"} <= set(c)
                                                   for c in v["checks"]) or not v["checks"]:
            raise fail(f"{v['scenario']} seed {v['seed']}: not a run's verdict: {wrong or 'checks malformed'}")
    heading = f"{title} on {merged['target']}"
    if runs:
        summary(runs if len(runs) <= 40 else [v for v in runs if not v["ok"]], heading)
        for v in runs:
            if not v["ok"]:
                console.print(f"[red]FAIL[/] {v['scenario']} seed {v['seed']} on {v['server']}: {v['report']} — "
                              f"replay: {v['replay']}", highlight=False, soft_wrap=True)
    console.print(f"{sum(v['ok'] for v in runs)} of {len(runs) + len(errors)} run(s) passed, from {len(files)} "
                  f"file(s)", highlight=False)
    if json_file:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(json.dumps(merged, indent=2, default=str))
    if runs and (junit or summary_file):
        write_ci(runs, junit, summary_file, heading)
    if errors:  # as the batch says them: the worst last
        lines = [(e["code"], f"{e['error']} (in {e['scenario']} seed {e['seed']} on {e['server']})")
                 for e in sorted(errors, key=lambda e: e["code"])]
        for _, line in lines[:-1]:
            err.print(f"also: {line}", highlight=False, soft_wrap=True)
        raise fail(lines[-1][1], code=lines[-1][0])
    raise typer.Exit(0 if merged["ok"] else 1)
