"""`--shard K/N`: the K-th of N slices of a batch's jobs, for a CI matrix whose jobs each run one. The slices are
by position in the batch's job list (every K-th job, from the K-th), which each command builds in one order from
its options and files — the same on every machine, whatever the process's hash seed.

A shard's JSON says which slice it is and where each of its runs stands in the whole list, so `rollup-bench
merge` can put the shards back together in the unsharded order and tell a missing or overlapping shard."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bench.workload.bounds import SHARDS_MAX


@dataclass(frozen=True)
class Shard:
    k: int
    n: int

    def __str__(self) -> str:
        return f"{self.k}/{self.n}"

    def indexes(self, jobs: int) -> list[int]:
        """The positions, among `jobs` jobs, of this shard's: round robin, so a list ordered longest first stays
        balanced across shards."""
        return list(range(self.k - 1, jobs, self.n))


def parse_shard(text: str) -> Shard:
    """'2/3' → Shard(2, 3); anything else, or K outside 1…N, is a ValueError naming the option."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not m or not 1 <= int(m[1]) <= int(m[2]) <= SHARDS_MAX:
        raise ValueError(f"--shard {text!r}: expected K/N with 1 ≤ K ≤ N ≤ {SHARDS_MAX}, e.g. 2/3")
    return Shard(int(m[1]), int(m[2]))


def record(shard: Shard, title: str, total: int, indexes: list[int], results: list) -> dict:
    """What a shard's JSON adds: the slice, the batch it is a slice of (its title and number of jobs), and the
    position in the whole list of each run (`runs`, in the JSON's order) and of each run without a verdict
    (`errors`); `stopped` when --until-failure left jobs unstarted."""
    from bench.orchestrate.request import NoVerdict

    done = [(i, r) for i, r in zip(indexes, results) if r is not None]
    return {"k": shard.k, "n": shard.n, "title": title, "jobs": total,
            "runs": [i for i, r in done if not isinstance(r, NoVerdict)],
            "errors": [i for i, r in done if isinstance(r, NoVerdict)],
            "stopped": len(done) < len(indexes)}
