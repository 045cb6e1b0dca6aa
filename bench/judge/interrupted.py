"""Whether a recorded run was interrupted — its server lost, or the bench stopped — rather than judged to its end.

Such a run says nothing about its target: `check` reports it as "run interrupted" (exit 2, the environment's
failure), not as the target's failures. Two signs, read from the history alone:
- an operation the verdict would count failed because its connection went: SQLSTATE 57P01–57P03 (the server
  shut down or crashed), class 08 (the connection failed), or no SQLSTATE at all (psycopg lost the socket). A
  fault the scenario imposed (a restart, a terminated tick) is recorded as the scenario's doing and not counted;
- the final check never completed (the history stops before it).
"""

from __future__ import annotations

import polars as pl

LOST = ("57P01", "57P02", "57P03", "08", "None:")  # prefixes of a recorded error: the connection, not the SQL


def interruption(ops: pl.DataFrame) -> str | None:
    """Why the run recorded in `ops` (History.ops) was interrupted, in a phrase; None if it ran to its end."""
    counted = ops.filter((pl.col("outcome") == "fail") & pl.col("cause").is_null() & pl.col("err").is_not_null())
    lost = counted.filter(pl.any_horizontal(*(pl.col("err").str.starts_with(p) for p in LOST))).sort("done")
    if lost.height:
        first = lost.row(0, named=True)
        return (f"{lost.height} operation(s) lost their connection, the first {first['f']} #{first['i']}: "
                f"{' '.join(str(first['err']).split())[:120]}")
    final = ops.filter((pl.col("f") == "check") & pl.col("final").fill_null(False) & (pl.col("outcome") == "ok"))
    if final.is_empty():
        done = ops.filter(pl.col("outcome").is_not_null())
        return f"the history stops after {done.height} of {ops.height} operation(s), before its final check"
    return None
