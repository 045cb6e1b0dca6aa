"""Oracle plus hour-grain diff over 10 million usage rows: time and peak memory, in a fresh process.

The history is synthetic but shaped like a real one (UUID-sized ids, re-keyed tasks and issues, deletes and
cascades), built with polars expressions and saved as Parquet; a child process loads it, computes the truth and
diffs it against a perturbed copy, and reports its own wall time and peak RSS.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import polars as pl

from bench.drive.history import SCHEMA

N_USAGE = 10_000_000
N_TASKS = 3_000_000
T0 = 1_772_323_200_000_000  # 2026-03-01T00:00Z
SPAN = 30 * 24 * 3_600_000_000
COLUMNS = {"i": pl.Int64, "f": pl.String, "at": pl.Int64, "p": pl.Int64, **SCHEMA["v"].to_schema(),
           "outcome": pl.String, "r": pl.Int64, "err": pl.String, "start": pl.Int64, "n": pl.Int64, "done": pl.Int64}


def _id(prefix: str, n: pl.Expr) -> pl.Expr:
    return pl.format(prefix + "{}", n.cast(pl.String).str.zfill(35))  # 36 characters, like a UUID


def _rand(n: pl.Expr, salt: int, mod: int) -> pl.Expr:
    return (n.hash(salt) % mod).cast(pl.Int64)


def _frame(n: int, **columns: pl.Expr) -> pl.DataFrame:
    """n rows computed from their position `k`."""
    return pl.DataFrame({"k": pl.int_range(n, dtype=pl.Int64, eager=True)}).select(pl.col("k"), **columns)


def synthetic_history() -> pl.DataFrame:
    k = pl.col("k")
    ws, agents, runtimes, projects, issues = 50, 500, 150, 250, 5000
    parts = [
        _frame(ws, f=pl.lit("workspace"), at=pl.lit(T0), id=_id("w", k)),
        _frame(runtimes, f=pl.lit("runtime"), at=pl.lit(T0), id=_id("r", k), workspace_id=_id("w", k % ws)),
        _frame(agents, f=pl.lit("agent"), at=pl.lit(T0), id=_id("a", k), workspace_id=_id("w", k % ws),
               runtime_id=_id("r", k % runtimes)),
        _frame(projects, f=pl.lit("project"), at=pl.lit(T0), id=_id("p", k), workspace_id=_id("w", k % ws)),
        _frame(issues, f=pl.lit("issue"), at=pl.lit(T0), id=_id("i", k), workspace_id=_id("w", k % ws),
               project_id=pl.when(k % 7 == 0).then(None).otherwise(_id("p", k % projects))),
        _frame(N_TASKS, f=pl.lit("task"), at=T0 + 1 + k * (SPAN // N_TASKS), id=_id("t", k),
               agent_id=_id("a", _rand(k, 1, agents)), runtime_id=_id("r", _rand(k, 1, agents) % runtimes),
               issue_id=pl.when(_rand(k, 2, 4) == 0).then(None).otherwise(_id("i", _rand(k, 3, issues)))),
        _frame(N_USAGE, f=pl.lit("usage"), at=T0 + 2 + (k % N_TASKS) * (SPAN // N_TASKS) + k // N_TASKS,
               task_id=_id("t", k % N_TASKS), provider=pl.lit("anthropic"),
               model=pl.format("model-{}", k // N_TASKS), input=_rand(k, 4, 50_000), output=_rand(k, 5, 5_000),
               cache_read=_rand(k, 6, 90_000), cache_write=_rand(k, 7, 3_000)),
        _frame(50_000, f=pl.lit("delete_usage"), at=T0 + SPAN + k, task_id=_id("t", _rand(k, 8, N_TASKS)),
               provider=pl.lit("anthropic"), model=pl.lit("model-0")),
        _frame(20_000, f=pl.lit("reassign_runtime"), at=T0 + SPAN + 100_000 + k, id=_id("t", _rand(k, 9, N_TASKS)),
               runtime_id=_id("r", _rand(k, 10, runtimes))),
        _frame(10_000, f=pl.lit("change_issue_project"), at=T0 + SPAN + 200_000 + k, id=_id("i", _rand(k, 11, issues)),
               project_id=_id("p", _rand(k, 12, projects))),
        _frame(5_000, f=pl.lit("delete_task"), at=T0 + SPAN + 300_000 + k, id=_id("t", _rand(k, 13, N_TASKS))),
        _frame(100, f=pl.lit("delete_issue"), at=T0 + SPAN + 400_000 + k, id=_id("i", _rand(k, 14, issues))),
        _frame(20, f=pl.lit("delete_agent"), at=T0 + SPAN + 500_000 + k, id=_id("a", _rand(k, 15, agents))),
        _frame(2, f=pl.lit("delete_workspace"), at=T0 + SPAN + 600_000 + k, id=_id("w", k * 7)),
    ]
    frame = pl.concat([p.drop("k") for p in parts], how="diagonal_relaxed").sort("at", maintain_order=True)
    # Each operation in its own transaction (start = at), its outcome on the line after its invoke.
    return frame.with_columns(i=pl.int_range(pl.len(), dtype=pl.Int64), p=pl.lit(0, pl.Int64), outcome=pl.lit("ok"),
                              start=pl.col("at"), n=pl.int_range(pl.len(), dtype=pl.Int64) * 2,
                              done=pl.int_range(pl.len(), dtype=pl.Int64) * 2 + 1).select(
        [pl.col(c).cast(t) if c in frame.columns or c in ("i", "p", "outcome", "start", "n", "done")
         else pl.lit(None, t).alias(c) for c, t in COLUMNS.items()])


CHILD = textwrap.dedent("""
    import json, sys, time
    import polars as pl
    from bench.judge import oracle
    from bench.judge import checker
    started = time.perf_counter()
    ops = pl.scan_parquet(sys.argv[1])  # the oracle reads each kind's own columns only
    rows = oracle.usage_rows(ops)
    truth = oracle.hour_truth(rows)
    rollup = pl.concat([
        truth.slice(2_000),                                                      # 1000 missing, 1000 mismatched
        truth.slice(1_000, 1_000).with_columns(pl.col("input_tokens") + 1),
        truth.head(1_000).with_columns(model=pl.lit("extra-model").cast(pl.Categorical)),  # 1000 extra
    ])
    diff = checker.hour_diff(truth, rollup)
    elapsed = time.perf_counter() - started
    # VmHWM, not ru_maxrss: the latter survives exec and would count the parent that forked us.
    hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
    print(json.dumps({"seconds": elapsed, "peak_rss_mb": hwm / 1024,
                      "usage_rows": rows.height, "keys": truth.height, "diff": diff.summary}))
""")


def test_oracle_and_hour_diff_over_ten_million_rows(tmp_path, benchmark):
    path = tmp_path / "history.parquet"
    synthetic_history().write_parquet(path)

    def child() -> dict:
        out = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    result = benchmark.pedantic(child, rounds=1, iterations=1)
    benchmark.extra_info.update(result)
    print(f"\noracle + hour diff: {result['usage_rows']} live usage rows, {result['keys']} keys in "
          f"{result['seconds']:.1f}s, peak RSS {result['peak_rss_mb']:.0f} MB; diff {result['diff']}")
    assert result["diff"] == {"missing": 1000, "extra": 1000, "mismatched": 1000}
