"""From a run's results to a verdict: each expectation checked, the JSON document, and a Markdown report."""

from __future__ import annotations

from datetime import UTC, datetime

from bench.drive.history import History
from bench.drive.runner import RunResult
from bench.judge import baseline, coverage
from bench.judge.checker import ATTRIBUTED
from bench.judge.record import Verdict
from rollup.clock import from_us

WORLD_OPS = frozenset({"workspace", "user", "runtime", "agent", "project", "issue"})  # a script's setting


def _check(name: str, expected: str, observed: str, ok: bool) -> dict:
    return {"name": name, "expected": expected, "observed": observed, "ok": bool(ok)}


def _meets(level: str, count: int) -> bool:
    return count == 0 if level == "none" else count > 0 if level == "some" else True


def _workload_checks(result: RunResult, exp, zones) -> list[dict]:
    bad = sum(c.hour.rows.height for c in result.checks)
    drift_rows = sum(z.drift_rows for c in result.checks for z in c.zones)
    first = next((d for c in result.checks for z in c.zones if (d := z.first_drift())), None)
    checks = [
        _check("hour-grain drift", exp.hour_drift,
               f"{bad} bad key(s) over {len(result.checks)} check(s)", _meets(exp.hour_drift, bad)),
        *[_check(f"{table} drift", exp.hour_drift, f"{n} bad key(s) over {len(result.checks)} check(s)",
                 _meets(exp.hour_drift, n)) for table, n in _table_drift(result).items()],
        _check("report-grain pipeline drift", exp.report_drift,
               f"{drift_rows} report row(s) differ from hour-grain truth" + (f"; the first: {first}" if first else ""),
               _meets(exp.report_drift, drift_rows)),
    ]
    level = exp.representation_error
    if level == "non_whole_hour_only":
        wrong = [z.name for z in zones if z.whole_hour and z.representation_rows]
        checks.append(_check("representation error", "only in non-whole-hour zones",
                             f"whole-hour zones with error: {', '.join(wrong) or 'none'}", not wrong))
    elif level != "any":
        total = sum(z.representation_rows for z in zones)
        checks.append(_check("representation error", level, f"{total} report row(s) over {len(zones)} zone(s)",
                             _meets(level, total)))
    return checks


def _table_drift(result: RunResult) -> dict[str, int]:
    """The further rollup tables' bad keys, summed over the checks, each judged at its own grain."""
    out: dict[str, int] = {}
    for c in result.checks:
        for table, diff in c.tables.items():
            out[table] = out.get(table, 0) + diff.rows.height
    return out


def _failure_checks(result: RunResult, exp) -> list[dict]:
    """Every operation's outcome judged: kinds that failed beyond what the scenario expects (by default, only
    faults and assumption breakers may fail, and not for a defect of the SQL they ran: history.DEFECTS), and
    kinds it expects to fail that never did."""
    unexpected = []
    for kind, f in sorted(result.failures.items()):
        if exp.failure_level(kind) == "none":
            count, first, how = f["count"], f["first"], "failed"
        elif f.get("defects") and kind not in exp.failures:
            count, first, how = f["defects"], f["first_defect"], "failed for a defect of the SQL"
        else:
            continue
        unexpected.append(f"{count} {kind} {how} (first: op #{first['i']} at {from_us(first['at']).isoformat()}: "
                          f"{first['error']})")
    missing = [kind for kind, level in sorted(exp.failures.items()) if level == "some" and kind not in result.failures]
    observed = "; ".join(unexpected + [f"no {k} failed" for k in missing]) or (
        "none" if not result.failures else "only expected ones: " + ", ".join(
            f"{f['count']} {k}" for k, f in sorted(result.failures.items())))
    expected = ", ".join(f"{k}: {v}" for k, v in sorted(exp.failures.items())) or "none outside faults and breakers"
    return [_check("operations succeeded", f"failures {expected}", observed, not unexpected and not missing)]


def _tested_checks(result: RunResult) -> list[dict]:
    """A verdict over nothing is not a pass: a check whose truth is empty although the history holds usage
    writes, none of which applied or none of which was deleted since; or a workload most of whose operations
    did not apply."""
    empty = [c for c in result.checks
             if not c.truth_rows and c.usage_invoked and not (c.usage_applied and c.deletes_applied)]
    applied, failed = result.outcomes.get("ok", 0), result.outcomes.get("fail", 0)
    few = failed > applied  # fewer than half of the workload's operations took effect
    observed = []
    if empty:
        c = empty[0]
        observed.append(f"empty truth at {len(empty)} check(s), the first after {c.usage_invoked} usage report(s)"
                        f" of which {c.usage_applied} applied")
    if few:
        observed.append(f"only {applied} of {applied + failed} operations applied")
    return [_check("something was tested", "a non-empty truth, most operations applied",
                   "; ".join(observed) or f"{applied} operations applied", not observed)]


def _report_checks(result: RunResult, exp) -> list[dict]:
    """A report query that errors fails, unless erroring is the reproduction's documented signature."""
    errors = sorted({f"{z.name}: {z.error}" for c in result.checks for z in c.zones if z.error})
    sc = result.scenario
    allowed = bool(exp.reproduced and sc.repro and "report:error" in sc.repro.signature)
    return [_check("report queries answered", "report:error (the signature)" if allowed else "no errors",
                   "; ".join(errors[:3]) + (f" (+{len(errors) - 3} more)" if len(errors) > 3 else "") or "no errors",
                   allowed or not errors)]


def _attribution(result: RunResult) -> dict:
    """Every bad key any check saw, once, with the catalogue ids that explain it (bench/judge/attribution.py): keys per
    id, and the unexplained ones with the operations that touched them (a trimmed replay's operations)."""
    keys: dict[tuple, tuple] = {}
    unexplained: dict[tuple, dict] = {}
    for c in result.checks:
        keys.update(c.attribution)
        for u in c.unexplained:
            unexplained.setdefault(tuple(u["key"].values()), u)
    by_id: dict[str, int] = {}
    for ids in keys.values():
        for x in ids:
            by_id[x] = by_id.get(x, 0) + 1
    still = [u for k, u in unexplained.items() if not keys.get(k)]
    # findings of the state row rather than of keys: a failed tick whose error it never recorded (B8)
    state = {"B8": "a tick failed and last_error stayed empty"} if any(c.error_lost for c in result.checks) else {}
    return {"keys": len(keys), "by_id": dict(sorted(by_id.items())), "state": state, "unexplained_keys": len(still),
            "unexplained": [_jsonable({k: v for k, v in u.items() if k != "touched"})
                            | {"touched": u["touched"][:200],
                               "replay": f"rollup-bench replay {result.history_path} --target {result.target} "
                                         f"--only {','.join(map(str, u['touched']))}"} for u in still[:10]]}


def evaluate(result: RunResult, accept: tuple[str, ...] | None = None) -> Verdict:
    """The verdict on a run. With `accept` (a baseline of catalogue ids), its divergence is judged against those
    ids rather than against the scenario's expectation of it: a piece no accepted id explains fails the run."""
    sc = result.scenario
    exp = sc.expectation(result.target)
    final = result.checks[-1] if result.checks else None
    zones = final.zones if final else []
    observed = sorted(set().union(*(c.signature for c in result.checks)))
    base = baseline.judge(baseline.pieces(result), accept) if accept is not None else None
    if base is not None:
        checks = [baseline.check(base)]
    elif exp.reproduced is not None:  # a scripted reproduction: its signature, or nothing at all
        signature = list(sc.repro.signature) if sc.repro else []
        if exp.reproduced:
            ok = bool(observed) and set(signature) <= set(observed)
            checks = [_check(f"{sc.name} reproduces", "signature " + (", ".join(signature) or "any divergence"),
                             ", ".join(observed) or "converged", ok)]
        else:
            checks = [_check(f"{sc.name} converges", "no divergence", ", ".join(observed) or "converged",
                             not observed)]
    else:
        checks = _workload_checks(result, exp, zones)
    if final and final.apply_errors is not None:
        checks.append(_check("history applied as recorded", "0 usage rows differ",
                             f"{final.apply_errors} usage row(s) differ", final.apply_errors == 0))
    if final and final.except_all is not None:
        extra, missing = final.except_all
        s = final.hour.summary
        want = (s["extra"] + s["mismatched"], s["missing"] + s["mismatched"])
        checks.append(_check("EXCEPT ALL second opinion agrees", f"{want[0]} extra / {want[1]} missing",
                             f"{extra} extra / {missing} missing", (extra, missing) == want))
    attributed = _attribution(result)
    # A generated workload expected to diverge (chaos on a faithful target): every bad key explained. Where drift
    # is not expected, the drift check fails already, and the attribution says what it can.
    if base is None and exp.reproduced is None and exp.hour_drift != "none" and attributed["keys"]:
        n, unexplained = attributed["keys"], attributed["unexplained_keys"]
        checks.append(_check("divergence attributed", "every bad key explained by a catalogue mechanism",
                             f"{n - unexplained} of {n} bad key(s) explained (the first {ATTRIBUTED} a check)"
                             + (f"; {unexplained} unexplained" if unexplained else ""), not unexplained))
    covered = None
    if not sc.steps:  # a generated run: what it covered, and whether that is what [cover] asked for
        h = History.load(result.history_path)
        covered = coverage.of(h.ops, h.header, sc)
        checks += [c for c in [coverage.check(covered, sc)] if c]
    checks += _failure_checks(result, exp) + _tested_checks(result)
    checks += _report_checks(result, exp) if base is None else []  # (in a baseline, a report error is a piece)
    if not result.checks:
        checks.append(_check("checks ran", "at least one", "none", False))
    return Verdict.from_json({
        "scenario": result.scenario.name,
        "description": result.scenario.description,
        "target": result.target,
        "seed": result.scenario.seed,
        "server_version": result.server_version,
        "history": str(result.history_path),
        "history_sha256": result.history_sha256,
        "operations": {"total": sum(result.operations.values()), "by_kind": dict(sorted(result.operations.items())),
                       **dict(result.outcomes)},
        "failures": result.failures,
        "ticks": {"count": result.ticks, "rows": result.tick_rows, "failed": result.tick_failures,
                  **_latency(result.tick_seconds)},
        "checks": checks,
        "ok": all(c["ok"] for c in checks),
        "drift": final.hour.summary if final else {"missing": 0, "extra": 0, "mismatched": 0},
        "tables": [{"table": "task_usage_hourly", "grain_minutes": 60, **(final.hour.summary if final else {})}]
                  + [{"table": t, "grain_minutes": g, **final.tables[t].summary}
                     for t, g in (final.grains.items() if final else ())],
        "signature": observed,
        **({"coverage": covered | {"line": coverage.line(covered)}} if covered else {}),
        **({"baseline": base} if base is not None else {}),
        "repro": {"id": sc.repro.id, "summary": sc.repro.summary, "reachable": sc.repro.reachable,
                  "signature": list(sc.repro.signature)} if sc.repro else None,
        "drift_by_check": [{"at": from_us(c.at).isoformat(), **c.hour.summary} for c in result.checks],
        "bad_keys": [_jsonable(k) for k in final.bad_keys] if final else [],
        "attribution": attributed,
        "script": [{"i": op.index, "at": from_us(op.at).isoformat(), "op": op.name, "session": op.session,
                    **{k: v for k, v in op.value.items() if v is not None}}
                   for op in result.script if op.name not in WORLD_OPS],
        "zones": [{"name": z.name, "whole_hour": z.whole_hour, "error": z.error, "pipeline_drift": z.pipeline_drift,
                   "pipeline_drift_tokens": z.pipeline_drift_tokens, "representation_error": z.representation_error,
                   "representation_error_tokens": z.representation_error_tokens,
                   "representation_error_share": round(z.representation_error_share, 6), "examples": z.examples,
                   **({"windows": [_window(w) for w in z.windows]} if z.windows else {})}
                  for z in zones],
    })


def not_applicable(sc, target: str, reason: str, accept: tuple[str, ...] | None = None) -> Verdict:
    """The verdict on a run that cannot be carried out on this chain (bench.drive.runner.NotApplicable): passing,
    with nothing shown, and `not_applicable` saying why — a baseline counts it neither new nor fixed."""
    line = f"cannot run on this chain: {reason}"
    base = None if accept is None else {**baseline.judge([], accept), "status": baseline.NOT_APPLICABLE}
    return Verdict.from_json({
        "scenario": sc.name, "description": sc.description, "target": target, "seed": sc.seed, "server_version": "",
        "history": "", "history_sha256": "", "operations": {"total": 0, "by_kind": {}}, "failures": {},
        "ticks": {"count": 0, "rows": 0, "failed": 0},
        "checks": [_check("runs on this chain", "the run carried out", line, True)],
        "ok": True, "not_applicable": reason,
        "drift": {"missing": 0, "extra": 0, "mismatched": 0}, "tables": [], "signature": [],
        **({"baseline": base} if base is not None else {}),
        "repro": {"id": sc.repro.id, "summary": sc.repro.summary, "reachable": sc.repro.reachable,
                  "signature": list(sc.repro.signature)} if sc.repro else None,
        "drift_by_check": [], "bad_keys": [], "attribution": {}, "script": [], "zones": [],
    })


def _window(w) -> dict:
    """A zone's figures over one of the further report windows a check reads."""
    return {"days": w.days, "pipeline_drift": w.pipeline_drift, "pipeline_drift_tokens": w.pipeline_drift_tokens,
            "representation_error": w.representation_error,
            "representation_error_tokens": w.representation_error_tokens, "examples": w.examples}


def _latency(seconds: list[float]) -> dict:
    """Wall time of the synchronous ticks on this machine: informative, never part of a verdict."""
    if not seconds:
        return {}
    ordered = sorted(seconds)
    pick = lambda q: round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)  # noqa: E731
    return {"seconds_total": round(sum(seconds), 3), "p50_ms": pick(0.5), "p99_ms": pick(0.99), "max_ms": pick(1.0)}


def _jsonable(bad: dict) -> dict:
    key = dict(bad["key"])
    key["bucket_hour"] = from_us(key["bucket_hour"]).isoformat()
    ops = [{**o, "at": from_us(o["at"]).isoformat()} for o in bad["ops"]]
    return {**bad, "key": key, "ops": ops}


def markdown(v: Verdict) -> str:
    lines = [f"# {v.scenario} on {v.target}: {'PASS' if v.ok else 'FAIL'}", "",
             f"PostgreSQL {v.server_version} · seed {v.seed} · history `{v.history_sha256[:16]}` · "
             f"{v.operations['total']} operations · {v.ticks['count']} ticks · written {datetime.now(UTC):%Y-%m-%d %H:%M}Z",
             *(["", f"Covered: {v.coverage['line']}"] if v.coverage else []),
             "", "| check | expected | observed | ok |", "|---|---|---|---|"]
    lines += [f"| {c['name']} | {c['expected']} | {c['observed']} | {'yes' if c['ok'] else '**no**'} |" for c in v.checks]
    lines += ["", "## Viewing zones (final check)", "",
              "| zone | whole-hour offsets | pipeline drift rows | representation error rows | share of tokens misplaced |",
              "|---|---|---|---|---|"]
    lines += [f"| {z['name']} | {'yes' if z['whole_hour'] else 'no'} | {z['pipeline_drift']} | "
              f"{z['representation_error']} | {z['representation_error_share']:.2%} |" for z in v.zones]
    if len((v.tables or [])) > 1:
        lines += ["", "## Rollup tables (final check)", "", "| table | grain | missing | extra | mismatched |",
                  "|---|---|---|---|---|"]
        lines += [f"| {t['table']} | {t['grain_minutes']} min | {t['missing']} | {t['extra']} | {t['mismatched']} |"
                  for t in v.tables]
    a = v.attribution or {}
    if a.get("keys"):
        lines += ["", f"## Attribution: {a['keys']} bad key(s) over all checks", "", "| catalogue id | keys |", "|---|---|"]
        lines += [f"| {x} | {n} |" for x, n in a["by_id"].items()] + [f"| **unexplained** | {a['unexplained_keys']} |"]
        lines += [f"\nAlso in the state row: {x}, {why}." for x, why in a.get("state", {}).items()]
        for u in a["unexplained"]:
            k = u["key"]
            lines.append(f"- unexplained **{u['status']}** {k['bucket_hour']} agent {k['agent_id'][:8]} "
                         f"{k['provider']}/{k['model']}: touched by ops {', '.join(map(str, u['touched'][:30]))}; "
                         f"trimmed replay: `{u['replay']}`")
    if v.bad_keys:
        lines += ["", "## Bad keys at the final check (first 20)", ""]
        for b in v.bad_keys:
            k = b["key"]
            lines.append(f"- **{b['status']}** {k['bucket_hour']} agent {k['agent_id'][:8]} runtime {k['runtime_id'][:8]} "
                         f"project {(k['project_id'] or 'none')[:8]} {k['provider']}/{k['model']}: deltas {b['deltas']}"
                         f"; explained by {', '.join(b.get('explained_by') or []) or 'nothing'}")
            for o in b["ops"]:
                lines.append(f"  - op #{o['i']} `{o['f']}` at {o['at']} ({o['outcome']})")
            if b["ops_total"] > len(b["ops"]):
                lines.append(f"  - … {b['ops_total'] - len(b['ops'])} more")
    return "\n".join(lines) + "\n"
