"""`run SCENARIO --seeds 1-N --until-failure`: a fuzzing campaign that stops at the first failing seed. The batch
starts its runs in seed order and none after one has failed (`failed`, the pool's stop); the runs already going
finish, so every seed before the lowest failing one has a result and that seed is the first failing in seed
order, whatever the number of jobs. Then its replay line and, per unexplained bad key, the trimmed replay the
verdict gives (`attribution.unexplained[].replay`: `replay --only` with the writes that touched the key)."""

from __future__ import annotations

from bench.orchestrate.batch import Job
from bench.cli.common import console


def failed(result: dict) -> bool:
    """A run that did not meet its expectations, or gave no verdict: the campaign stops there."""
    return "error" in result or not result["ok"]


def first_failure(results: list[dict | None]) -> int | None:
    """The position of the first failing run, in the batch's (seed) order."""
    return next((i for i, r in enumerate(results) if r is not None and failed(r)), None)


def report(jobs: list[Job], results: list[dict | None]) -> None:
    i = first_failure(results)
    unstarted = sum(r is None for r in results)
    if i is None:
        console.print(f"until-failure: no seed failed ({len(jobs) - unstarted} run)", highlight=False)
        return
    job, r = jobs[i], results[i]
    console.print(f"[bold red]until-failure[/]: seed {job.seed} on {job.pg} is the first failing seed "
                  f"({i} run(s) passed before it; {unstarted} not started)", highlight=False, soft_wrap=True)
    if "error" in r:
        console.print(f"  no verdict: {r['error']}", highlight=False, soft_wrap=True)
        return
    console.print(f"  replay: {r['replay']}", highlight=False, soft_wrap=True)
    a = r.get("attribution") or {}
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
        failing = "; ".join(f"{c['name']}: {c['observed']}" for c in r["checks"] if not c["ok"])
        console.print(f"  no bad key to trim to; failed: {failing}", highlight=False, soft_wrap=True)
