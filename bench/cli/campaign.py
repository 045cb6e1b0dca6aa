"""`run SCENARIO --seeds 1-N --until-failure`, as printed: the first failing seed (bench/orchestrate/matrix.py
stops the batch there: no run is started after one has failed, and those already going finish, so every seed
before the lowest failing one has a result, whatever the number of jobs), its replay line and, per unexplained
bad key, the trimmed replay the verdict gives (`attribution.unexplained[].replay`: `replay --only` with the
writes that touched the key)."""

from __future__ import annotations

from bench.cli.common import console
from bench.orchestrate.matrix import first_failure
from bench.orchestrate.records import NoVerdict


def report(requests: list, results: list) -> None:
    i = first_failure(results)
    unstarted = sum(r is None for r in results)
    if i is None:
        console.print(f"until-failure: no seed failed ({len(requests) - unstarted} run)", highlight=False)
        return
    req, r = requests[i], results[i]
    console.print(f"[bold red]until-failure[/]: seed {req.seed} on {req.server.backend} is the first failing seed "
                  f"({i} run(s) passed before it; {unstarted} not started)", highlight=False, soft_wrap=True)
    if isinstance(r, NoVerdict):
        console.print(f"  no verdict: {r.error}", highlight=False, soft_wrap=True)
        return
    console.print(f"  replay: {r.replay}", highlight=False, soft_wrap=True)
    a = r.attribution or {}
    trimmed = [u["replay"] for u in a.get("unexplained", [])]
    if trimmed:
        console.print(f"  trimmed reproduction ({a['unexplained_keys']} unexplained key(s), one line each, "
                      f"the writes that touched it):", highlight=False, soft_wrap=True)
        for line in trimmed:
            console.print(f"    {line}", highlight=False, soft_wrap=True)
    elif a.get("keys"):
        ids = ", ".join(f"{x} ({n})" for x, n in a["by_id"].items())
        console.print(f"  every bad key is explained ({ids}): no trimmed reproduction", highlight=False,
                      soft_wrap=True)
    else:
        failing = "; ".join(f"{c['name']}: {c['observed']}" for c in r.failed_checks())
        console.print(f"  no bad key to trim to; failed: {failing}", highlight=False, soft_wrap=True)
