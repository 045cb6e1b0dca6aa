"""Writes applied between ticks: the application's statements (usage upsert, task insert, usage delete, task
runtime reassignment), in set form over arrays so a batch of 100k writes is a handful of statements. Rows are
picked from the preloaded world by the spec's seed: re-reports and key sweeps from live rows, deletes from a
fixed permutation (so a row is deleted once and never re-reported)."""

from __future__ import annotations

import numpy as np
import polars as pl

from bench.capacity.world import AGENT, ISSUE, RUNTIME, TASK, World, uid1

_UPSERT = """
INSERT INTO task_usage AS u (task_id, provider, model, input_tokens, output_tokens, cache_read_tokens,
                             cache_write_tokens, updated_at)
SELECT x.t, lower(x.p), x.m, x.i, x.o, x.cr, x.cw, now()
  FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[])
       AS x(t, p, m, i, o, cr, cw)
ON CONFLICT (task_id, provider, model) DO UPDATE
   SET input_tokens = EXCLUDED.input_tokens, output_tokens = EXCLUDED.output_tokens,
       cache_read_tokens = EXCLUDED.cache_read_tokens, cache_write_tokens = EXCLUDED.cache_write_tokens,
       updated_at = now()"""
_TASKS = """INSERT INTO agent_task_queue (id, agent_id, runtime_id, issue_id, status)
SELECT x.id, x.a, x.r, x.i, 'completed' FROM unnest(%s::uuid[], %s::uuid[], %s::uuid[], %s::uuid[]) AS x(id, a, r, i)"""
_DELETE = """DELETE FROM task_usage u USING unnest(%s::uuid[], %s::text[], %s::text[]) AS x(t, p, m)
 WHERE u.task_id = x.t AND u.provider = x.p AND u.model = x.m"""
_REASSIGN = """UPDATE agent_task_queue t SET runtime_id = x.r FROM unnest(%s::uuid[], %s::uuid[]) AS x(id, r)
 WHERE t.id = x.id"""


class Workload:
    def __init__(self, world: World, seed: int, mix: dict[str, float] | None = None):
        self.world = world
        self.rng = np.random.default_rng([seed, 7])
        self.mix = mix or {"insert": 1.0}
        keyed = world.keyed()
        # One row per rollup key, in seeded order: re-reporting the first k of them dirties exactly k keys.
        by_key = keyed.group_by("hour", "ws", "runtime", "agent", "project", "combo", maintain_order=True).agg(
            pl.col("row").first())
        order = self.rng.permutation(by_key.height)
        self.key_rows = by_key["row"].to_numpy()[order]
        self.doomed = self.rng.permutation(world.rows)  # the order rows get deleted in
        self.deleted = 0
        self.next_task = 10**11  # new tasks' ids: far from the preloaded ones
        self.task_of = world.usage["task"].to_numpy()
        self.combo_of = world.usage["combo"].to_numpy()
        self.tokens = world.usage.select("input_tokens", "output_tokens", "cache_read_tokens",
                                         "cache_write_tokens").to_numpy()
        self.agents = world.agents.to_numpy()  # agent, ws, runtime
        self.runtimes_per_ws = int(world.runtimes.filter(pl.col("ws") == 0).height)
        self.issues_per_ws = int(world.issues.filter(pl.col("ws") == 0).height)
        self.bump = 0

    @property
    def keys(self) -> int:
        return len(self.key_rows)

    def _upsert(self, conn, rows: np.ndarray) -> None:
        rows = np.unique(rows)  # one statement may not upsert a row twice (the application would not either)
        self.bump += 1
        tok = self.tokens[rows] + self.bump  # new counters, so every re-report changes its bucket
        combos = self.world.combos
        conn.execute(_UPSERT, ([uid1(TASK, t) for t in self.task_of[rows]],
                               [combos[c][0] for c in self.combo_of[rows]], [combos[c][1] for c in self.combo_of[rows]],
                               *(tok[:, j].tolist() for j in range(4))))  # fmt: skip

    def rereport_keys(self, conn, k: int, offset: int = 0) -> int:
        """Re-report one row of each of k distinct keys (from `offset` in the seeded key order)."""
        n = len(self.key_rows)
        rows = self.key_rows[(offset + np.arange(min(k, n))) % n]
        rows = rows[rows >= 0]
        self._upsert(conn, rows)
        return len(rows)

    def batch(self, conn, writes: int) -> dict[str, int]:
        """`writes` operations in the spec's mix, in the caller's transaction (its now() dates them)."""
        names = list(self.mix)
        weights = np.array([self.mix[n] for n in names], dtype=float)
        counts = dict(zip(names, self.rng.multinomial(writes, weights / weights.sum()).tolist()))
        if n := counts.get("insert", 0):
            self.insert(conn, n)
        if n := counts.get("rereport", 0):
            live = self.doomed[self.deleted :]
            self._upsert(conn, live[self.rng.integers(0, len(live), n)])
        if n := counts.get("delete", 0):
            rows = self.doomed[self.deleted : self.deleted + n]
            self.deleted += len(rows)
            combos = self.world.combos
            conn.execute(_DELETE, ([uid1(TASK, t) for t in self.task_of[rows]],
                                   [combos[c][0] for c in self.combo_of[rows]],
                                   [combos[c][1] for c in self.combo_of[rows]]))  # fmt: skip
        if n := counts.get("reassign", 0):
            tasks = self.rng.integers(0, self.world.tasks.height, n)
            agents = self.world.tasks["agent"].to_numpy()[tasks]
            ws = self.agents[agents, 1]
            runtime = ws * self.runtimes_per_ws + self.rng.integers(0, self.runtimes_per_ws, n)
            conn.execute(_REASSIGN, ([uid1(TASK, t) for t in tasks], [uid1(RUNTIME, r) for r in runtime]))
        return counts

    def insert(self, conn, n: int) -> None:
        """n new tasks, one usage row each, created now."""
        ids = np.arange(self.next_task, self.next_task + n)
        self.next_task += n
        a = self.agents[self.rng.integers(0, len(self.agents), n)]
        issue = a[:, 1] * self.issues_per_ws + self.rng.integers(0, max(self.issues_per_ws, 1), n)
        chat = self.rng.random(n) < 0.2 if self.issues_per_ws else np.ones(n, bool)
        conn.execute(_TASKS, ([uid1(TASK, t) for t in ids], [uid1(AGENT, x) for x in a[:, 0]],
                              [uid1(RUNTIME, x) for x in a[:, 2]],
                              [None if c else uid1(ISSUE, i) for c, i in zip(chat, issue)]))  # fmt: skip
        combos = self.world.combos
        pick = self.rng.integers(0, len(combos), n)
        tok = self.rng.integers(1, 5000, (n, 4))
        conn.execute(_UPSERT, ([uid1(TASK, t) for t in ids], [combos[c][0] for c in pick],
                               [combos[c][1] for c in pick], *(tok[:, j].tolist() for j in range(4))))  # fmt: skip
