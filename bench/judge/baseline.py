"""An accepted-divergence baseline: what a run shows, by catalogue id, against the ids a project accepts.

A run's divergence is made of pieces — each bad key of the hourly table, each further table's drift, each viewing
zone's report drift, representation error and report error, a failed tick's lost error — and each piece carries
the catalogue ids whose mechanism explains it (bench/judge/attribution.py for keys; by definition for the
rest: representation error in a zone whose offset is not a whole hour is B10, a report error on a name the
application accepts and PostgreSQL rejects is B11, a lost error is B8). A piece that no accepted id explains is
*new*; ids the accepted explain are *known*. An accepted id that no run of a batch shows any more is *fixed*:
a warning (remove it from accept), a failure when strict.
"""

from __future__ import annotations

from bench.judge import catalogue
from bench.judge.days import app_zone
from bench.workload.columns import KEY
from rollup.clock import from_us

EVERY = catalogue.EVERY  # every id of the catalogue (bench/judge/catalogue.py)
NEW, FIXED, KNOWN, CLEAN = "new", "fixed", "known", "clean"
NOT_APPLICABLE = "not applicable"  # a run the chain cannot carry out: it shows nothing, and fixes nothing


def parse_ids(items: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Catalogue ids from a list whose items may be comma-separated ("B1,B10"); ValueError names an unknown one."""
    ids = [x.strip().upper() for item in items for x in str(item).split(",") if x.strip()]
    unknown = [x for x in ids if x not in EVERY and x != "NONE"]
    if unknown:
        raise ValueError(f"{unknown[0]!r} is not a catalogue id (one of {', '.join(EVERY)})")
    return tuple(sorted({x for x in ids if x != "NONE"}, key=EVERY.index))


def _describe_key(key: tuple, status: str, deltas: dict | None = None) -> str:
    """A bad key in one line; a mismatched one with the measures that differ (rollup − truth), so a terminal
    names the measure too."""
    k = dict(zip(KEY, key))
    off = ", ".join(f"{m} {d:+,}" if isinstance(d, int) else f"{m} {d}" for m, d in (deltas or {}).items())
    return (f"{status} key {from_us(k['bucket_hour']).strftime('%Y-%m-%dT%H:%MZ')} agent {str(k['agent_id'])[:8]} "
            f"{k['provider']}/{k['model']}" + (f" ({off})" if status == "mismatched" and off else ""))


def pieces(result) -> list[dict]:
    """Every piece of divergence a run's checks saw, once, each {what, ids}: keys in the order first seen, then
    the rest. (Keys are those a check attributed: the first 500 of each.)"""
    keys: dict[tuple, dict] = {}
    rest: dict[str, dict] = {}
    for c in result.checks:
        attributed = c.hour.rows.head(len(c.attribution))  # the checker attributes its first keys, in order
        rows = {tuple(r[k] for k in KEY): r for r in attributed.iter_rows(named=True)}
        for key, ids in c.attribution.items():
            row = rows.get(key)
            what = _describe_key(key, row["status"], c.hour.deltas(row)) if row else _describe_key(key, "bad")
            keys.setdefault(key, {"what": what, "ids": sorted(ids)})
        # what a check's bad keys explain, they explain in its reports and further tables too
        by_keys = sorted({x for ids in c.attribution.values() for x in ids}) if c.hour.rows.height else []
        for table, diff in c.tables.items():
            if diff.rows.height:
                rest.setdefault(f"{table} drift", {"what": f"{table}: {diff.rows.height} bad key(s)", "ids": by_keys})
        for z in c.zones:
            if z.drift_rows:  # the first drifting row named: its report, window and measures
                rest.setdefault(f"drift {z.name}", {"what": f"report drift in {z.name}: {z.first_drift()}",
                                                    "ids": by_keys})
            if z.representation_rows:
                rest.setdefault(f"repr {z.name}", {"what": f"representation error in {z.name}",
                                                   "ids": [] if z.whole_hour else ["B10"]})
            if z.error:
                accepted_name = z.name in ("", "UTC", "Local") or app_zone(z.name) == z.name
                b11 = accepted_name and "22023" in z.error  # invalid_parameter_value: PostgreSQL rejects the name
                rest.setdefault(f"error {z.name}", {"what": f"report error in {z.name}: {z.error}",
                                                    "ids": ["B11"] if b11 else []})
        if c.error_lost:
            rest.setdefault("state", {"what": "a tick failed and last_error stayed empty", "ids": ["B8"]})
    return [*keys.values(), *rest.values()]


def judge(found: list[dict], accepted: tuple[str, ...]) -> dict:
    """The baseline's view of a run: the ids it shows, those accepted, and the pieces no accepted id explains."""
    shown = sorted({x for p in found for x in p["ids"]}, key=EVERY.index)
    new = [p for p in found if not set(p["ids"]) & set(accepted)]
    known = [x for x in shown if x in accepted]
    return {"accepted": list(accepted), "shown": shown, "known": known, "fixed": [], "new_count": len(new),
            "new": new[:20], "status": NEW if new else KNOWN if known else CLEAN}


def check(base: dict) -> dict:
    accepted = base["accepted"]
    names = ", ".join(accepted) if len(accepted) <= 4 else f"the {len(accepted)} accepted"
    expected = f"only divergence accepted ids explain ({names})" if accepted else "no divergence (nothing accepted)"
    parts = [f"known {', '.join(base['known'])}"] if base["known"] else []
    if base["new"]:
        first = base["new"][0]
        why = f"explained by {', '.join(first['ids'])}, not accepted" if first["ids"] else "explained by nothing"
        parts.append(f"new: {base['new_count']} piece(s), the first {first['what']} ({why})")
    return {"name": "divergence within the baseline", "expected": expected,
            "observed": "; ".join(parts) or "converged", "ok": not base["new"]}


def settle(verdicts: list, accepted: tuple[str, ...], strict: bool = False) -> list[str]:
    """The accepted ids no run of the batch shows any more (fixed), marked on the reproductions of them; with
    `strict`, those runs fail. Returns the fixed ids. Only an id whose reproduction ran, and could be carried
    out on the chain, can be fixed: a batch that never exercised an id (a subset of the gate) says nothing of it.
    (`verdicts`: bench/judge/record.Verdict.)"""
    shown = {x for v in verdicts for x in (v.baseline or {}).get("shown", ())}
    exercised = {(v.repro or {}).get("id") for v in verdicts if not v.not_applicable}
    fixed = [x for x in accepted if x not in shown and x in exercised]
    for v in verdicts:
        base, repro = v.baseline, (v.repro or {}).get("id")
        if base is None or repro not in fixed:
            continue
        base["fixed"] = [repro]
        if base["status"] != NEW:
            base["status"] = FIXED
        c = {"name": "accepted ids still shown", "expected": f"{repro} reproduces (it is accepted)",
             "observed": f"{repro} fixed — remove it from accept", "ok": not strict}
        v.checks.append(c)
        v.ok = v.ok and c["ok"]
    return fixed


def label(v) -> str:
    """A run's baseline status in a few words: 'known B1, B4', 'new', 'fixed B12', 'clean'."""
    base = v.baseline
    if base is None:
        return ""
    ids = base["fixed"] if base["status"] == FIXED else base["known"]
    return base["status"] + (f" {', '.join(ids)}" if ids and base["status"] != NEW else "")
