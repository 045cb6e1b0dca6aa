"""Joining the JSON verdicts of a batch's shards (`--shard K/N`, bench/orchestrate/shards.py) into the batch's own
— its runs in the unsharded order — for `rollup-bench merge`. Whole batches (no --shard; e.g. one CI job per
server) join too, in the order given. Shards of different targets or batches, the same shard twice, a missing
shard, or one run in two files are refused (`MergeError`): the result would not be the batch."""

from __future__ import annotations

import json
from pathlib import Path

from bench.judge.baseline import settle
from bench.judge.record import Verdict
from bench.orchestrate.shapes import malformed, unshowable  # noqa: F401 (the command's too)


class MergeError(ValueError):
    """A set of files that do not make one batch (bad input: exit 2)."""


def _read(path: Path) -> dict:
    try:
        doc = json.loads(path.read_text())
    except OSError as exc:
        raise MergeError(f"{path}: cannot read it ({exc.strerror or exc})")
    except ValueError as exc:
        raise MergeError(f"{path}: not JSON ({exc})")
    if not (isinstance(doc, dict) and isinstance(doc.get("runs"), list) and "target" in doc):
        raise MergeError(f"{path}: not a batch's JSON (written by gate or run --seeds with --json)")
    if (problem := malformed(doc)) is not None:
        raise MergeError(f"{path}: not a batch's JSON: {problem}")
    return doc


def _run_id(v: dict) -> tuple:
    return v["scenario"], v["seed"], v.get("server"), v.get("read_side")


def join(files: list[Path]) -> tuple[dict, str]:
    """The merged batch JSON ({target, ok, runs[, errors]}) and its title; a bad set of files is a one-line
    error (exit 2)."""
    docs = [(p, _read(p)) for p in files]
    (first, d0), *rest = docs
    for p, d in rest:
        if d["target"] != d0["target"]:
            raise MergeError(f"{p} is on target {d['target']!r}, {first} on {d0['target']!r}: shards of different "
                       "targets do not merge")
        if ("shard" in d) != ("shard" in d0):
            sharded, whole = (p, first) if "shard" in d else (first, p)
            raise MergeError(f"{sharded} is a shard ({docs_shard(d if 'shard' in d else d0)}) and {whole} a whole "
                             "batch: they do not merge")
    title = "merged"
    if "shard" in d0:
        title = _check_shards(docs)
    seen: dict[tuple, Path] = {}
    for p, d in docs:
        for v in d["runs"]:
            if _run_id(v) in seen:
                raise MergeError(f"{seen[_run_id(v)]} and {p} overlap: both ran {v['scenario']} seed {v['seed']} on "
                           f"{v.get('server')}")
            seen[_run_id(v)] = p
    if "shard" in d0:  # back in the unsharded order: by each run's position in the whole batch
        runs = [v for _, v in sorted(((i, v) for _, d in docs for i, v in zip(d["shard"]["runs"], d["runs"])),
                                     key=lambda iv: iv[0])]
        errors = [e for _, e in sorted((i, e) for _, d in docs for i, e in zip(d["shard"]["errors"],
                                                                                d.get("errors", [])))]
    else:
        runs = [v for _, d in docs for v in d["runs"]]
        errors = [e for _, d in docs for e in d.get("errors", [])]
    runs = [Verdict.from_json(v) for v in runs]
    base = _baseline(docs, runs, sharded="shard" in d0)
    merged = {"target": d0["target"], "ok": all(v.ok for v in runs) and not errors, "runs": runs}
    return merged | ({"errors": errors} if errors else {}) | ({"baseline": base} if base else {}), title


def _baseline(docs: list[tuple[Path, dict]], runs: list[Verdict], sharded: bool) -> dict | None:
    """The accepted ids the files were judged against (the same in every file). What is fixed is a fact of the
    whole batch — no run of it shows the id — so shards, which do not settle it, are settled here."""
    (first, d0), bases = docs[0], [d.get("baseline") for _, d in docs]
    for (p, _), b in zip(docs, bases):
        if (b or {}).get("accepted") != (bases[0] or {}).get("accepted"):
            raise MergeError(f"{p} and {first} were judged against different accepted ids: they do not merge")
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
            raise MergeError(f"{p} is shard {docs_shard(d)} of {s['title']!r} ({s['jobs']} runs), {first} shard "
                       f"{docs_shard(d0)} of {s0['title']!r} ({s0['jobs']} runs): not one batch's shards")
        if s["k"] in by_k:
            raise MergeError(f"{by_k[s['k']]} and {p} are both shard {docs_shard(d)}: overlapping shards")
        by_k[s["k"]] = p
    missing = [f"{k}/{s0['n']}" for k in range(1, s0["n"] + 1) if k not in by_k]
    if missing:
        raise MergeError(f"shard(s) {', '.join(missing)} missing: the merge would not be the whole batch")
    return s0["title"]
