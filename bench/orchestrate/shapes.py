"""What `merge` reads of a batch's JSON, checked before it is read: a hand-made (or truncated) file may lack any
of it, and says so on one line rather than as a KeyError. Bounds as --seeds' and --shard's."""

from __future__ import annotations

from bench.workload.bounds import SEEDS_MAX, SHARDS_MAX

_RUN = {"scenario": str, "seed": int, "ok": bool}
_SHOWN = {"server": str, "report": str, "replay": str, "checks": list}  # what the summary shows of a run
_ERROR = {"scenario": str, "seed": (int, type(None)), "server": str, "code": int, "error": str}
_SHARD = {"k": int, "n": int, "title": str, "jobs": int, "runs": list, "errors": list}


def _wrong(entry: object, shape: dict) -> str | None:
    if not isinstance(entry, dict):
        return f"expected a table, got {type(entry).__name__}"
    bad = [k for k, t in shape.items() if not isinstance(v := entry.get(k), t) or isinstance(v, bool) and t is int]
    return f"{', '.join(bad)} missing or of the wrong type" if bad else None


def malformed(doc: dict) -> str | None:
    """What a batch JSON lacks that merge needs; None if nothing."""
    for key, shape in (("runs", _RUN), ("errors", _ERROR)):
        entries = doc.get(key, [])
        for n, entry in enumerate(entries if isinstance(entries, list) else [None]):
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


def unshowable(runs: list[dict]) -> str | None:
    """What a run of a merged batch lacks that its summary shows (its server, report, replay line, checks)."""
    for v in runs:
        wrong = _wrong(v, _SHOWN)
        if wrong is None and not (v["checks"] and all(isinstance(c, dict) and {"expected", "observed", "ok"} <= set(c)
                                                      for c in v["checks"])):
            wrong = "checks malformed"
        if wrong is not None:
            return f"{v['scenario']} seed {v['seed']}: not a run's verdict: {wrong}"
    return None
