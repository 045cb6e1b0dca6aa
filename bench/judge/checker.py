"""The checker: judges a target's rollup against the oracle, at hour grain and at report grain.

Hour grain: missing, extra and mismatched keys with their deltas, and the operations that touched each bad key.
Report grain, per viewing zone: a report computed by the read side's own SQL from the rollup is compared with
the same report sliced from hour-grain truth (the difference is *pipeline drift*), and that with the true report
by local date of every usage row (the difference is *representation error*: UTC hours cannot express the zone's
days). A second opinion comes from inside PostgreSQL: the symmetric EXCEPT ALL difference between the rollup
and its defining query over the raw tables.

Hour grain judges every measure a rollup table declares (rollup/measures.py: by default the four token sums,
task_count and event_count), each bad key's deltas named by measure; report grain judges the token sums and every
declared measure a report carries (its read side's mapping names them, rollup/readside.py), each exactly, over the
scenario's window and the short ones each check reads too (bench/drive/snapshots.py WINDOWS).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import polars as pl

from bench.drive.snapshots import Snapshot
from bench.judge import attribution, oracle
from bench.judge import days as days_
from bench.judge.oracle import report
from bench.workload.columns import KEY, REPORT_GROUPS, TOKENS, USAGE_KEY, VALUES
from bench.workload.kinds import acting_on, deleting, repointing, rekeying
from bench.workload.scenario import Scenario
from rollup.units import HOUR

REKEYING = rekeying()
ATTRIBUTED = 500  # bad keys attributed per check (each looks through the history)


@dataclass
class HourDiff:
    rows: pl.DataFrame  # status (missing | extra | mismatched), the key, truth and rollup values, deltas
    values: list[str] = field(default_factory=lambda: list(VALUES))  # the measures judged

    def deltas(self, key: dict) -> dict:
        """A bad key's nonzero deltas, by measure (a decimal one as its exact text, so the verdict stays JSON)."""
        return {c: d if isinstance(d, int) else str(d) for c in self.values if (d := key[f"{c}_delta"])}

    def count(self, status: str) -> int:
        return self.rows.filter(pl.col("status") == status).height

    @property
    def summary(self) -> dict:
        return {s: self.count(s) for s in ("missing", "extra", "mismatched")}

    @property
    def ok(self) -> bool:
        return self.rows.is_empty()


def hour_diff(truth: pl.DataFrame, rollup: pl.DataFrame, values: list[str] = VALUES) -> HourDiff:
    """Full outer join on the key (NULL project matches NULL project) and classify every difference in any of
    `values` (a NULL measure counts as 0)."""
    joined = truth.with_columns(_t=pl.lit(True)).join(
        rollup.with_columns(_r=pl.lit(True)), on=KEY, how="full", nulls_equal=True, coalesce=True, suffix="_rollup"
    )
    differs = pl.any_horizontal(*[pl.col(c).fill_null(0) != pl.col(f"{c}_rollup").fill_null(0) for c in values])
    status = (pl.when(pl.col("_r").is_null()).then(pl.lit("missing"))
              .when(pl.col("_t").is_null()).then(pl.lit("extra"))
              .otherwise(pl.lit("mismatched")))
    bad = joined.filter(pl.col("_t").is_null() | pl.col("_r").is_null() | differs).with_columns(
        status=status, **{f"{c}_delta": pl.col(f"{c}_rollup").fill_null(0) - pl.col(c).fill_null(0) for c in values}
    )
    return HourDiff(bad.drop("_t", "_r").sort(KEY, nulls_last=True), list(values))


def apply_diff(history_rows: pl.DataFrame, db_rows: pl.DataFrame, extra: list[str] = ()) -> int:
    """Usage rows where the raw tables disagree with what the history says was written (an apply error), optional
    raw columns (`extra`) included."""
    cols = [*USAGE_KEY, "created_at", *TOKENS, "runtime_id", "agent_id", "workspace_id", "project_id", *extra]
    a, b = history_rows.select(cols), db_rows.select(cols)
    return a.join(b, on=cols, how="anti", nulls_equal=True).height + b.join(a, on=cols, how="anti", nulls_equal=True).height


def touching(ops: pl.DataFrame, key: dict) -> pl.DataFrame:
    """The operations that touched a key: every write to its usage rows, its tasks' re-keying, its entities'
    deletes. Its usage rows are those of tasks that ever ran on its agent, reported for its model in its hour."""
    hour = key["bucket_hour"]
    same_model = (pl.col("provider").str.to_lowercase() == key["provider"]) & (pl.col("model") == key["model"])
    agent_tasks = ops.filter(pl.col("f").is_in(["task", *repointing("task", "agent_id")])
                             & (pl.col("agent_id") == key["agent_id"]))
    in_hour = (pl.coalesce("created_at", "start") // HOUR) * HOUR == hour
    ids = agent_tasks.get_column("id").implode()
    # re-keys onto its provider and model of rows of its agent's tasks first reported in its hour
    into = ops.filter(pl.col("f").is_in(REKEYING) & pl.col("task_id").is_in(ids)
                      & (pl.coalesce("new_provider", "provider").str.to_lowercase() == key["provider"])
                      & (pl.coalesce("new_model", "model") == key["model"]))
    if into.height:  # (rare: only assumption breakers re-key)
        into = into.join(ops.filter((pl.col("f") == "usage") & in_hour).select("task_id", "provider", "model"),
                         on=["task_id", "provider", "model"], how="semi")
    tasks = pl.concat([ops.filter(pl.col("task_id").is_in(ids) & same_model & in_hour).get_column("task_id"),
                       into.get_column("task_id")]).unique().implode()
    issues = ops.filter(pl.col("f").is_in(["task", *repointing("task", "issue_id")]) & pl.col("id").is_in(tasks)) \
        .get_column("issue_id").drop_nulls().unique().implode()
    # a project its issues ever had: deleting it moves their usage to no project (ON DELETE SET NULL)
    projects = ops.filter(pl.col("f").is_in(["issue", *repointing("issue", "project_id")])
                          & pl.col("id").is_in(issues)) \
        .get_column("project_id").drop_nulls().unique().implode()
    entities = [key[c] for c in ("agent_id", "runtime_id", "project_id", "workspace_id") if key.get(c)]
    hit = ops.filter(
        (pl.col("task_id").is_in(tasks) & same_model)
        | (pl.col("f").is_in(["task", *acting_on("task")]) & pl.col("id").is_in(tasks))
        | (pl.col("f").is_in(acting_on("issue")) & pl.col("id").is_in(issues))
        | (pl.col("f").is_in(deleting()) & pl.col("id").is_in(entities))
        | (pl.col("f").is_in(deleting("project")) & pl.col("id").is_in(projects))
        | (pl.col("f").is_in(REKEYING) & ((pl.col("new_created_at") // HOUR) * HOUR == hour))
        | (pl.col("new_task_id").is_in(ids) & same_model)  # moved onto its tasks
        | pl.col("i").is_in(into.get_column("i").implode())
    )
    return hit


def excerpt(hit: pl.DataFrame, limit: int = 12) -> list[dict]:
    """Re-keying and deletes explain more than the reports that built the row: those first."""
    return hit.sort(pl.col("f") == "usage", "i").head(limit).sort("i").select("i", "f", "at", "outcome").to_dicts()


@dataclass
class ZoneResult:
    name: str
    whole_hour: bool
    pipeline_drift: int = 0  # report rows where the rollup's report differs from hour-grain truth's
    pipeline_drift_tokens: int = 0
    representation_error: int = 0  # report rows where hour-grain truth differs from the true local days
    representation_error_tokens: int = 0
    true_tokens: int = 0  # all tokens in the true reports, to put the error in proportion
    error: str | None = None  # the read side's reports failed in this zone (e.g. a name PostgreSQL rejects: B11)
    examples: list = field(default_factory=list)
    days: int = 0  # the window these figures are over (the scenario's report_days)
    windows: list[ZoneResult] = field(default_factory=list)  # the same over each further window the check read

    @property
    def representation_error_share(self) -> float:
        """Share of the zone's report tokens shown on the wrong day or dropped (each misplaced token counts once)."""
        return self.representation_error_tokens / 2 / self.true_tokens if self.true_tokens else 0.0

    @property
    def drift_rows(self) -> int:
        """Pipeline drift over every window read."""
        return self.pipeline_drift + sum(w.pipeline_drift for w in self.windows)

    @property
    def representation_rows(self) -> int:
        return self.representation_error + sum(w.representation_error for w in self.windows)

    def first_drift(self) -> str | None:
        """The first drifting report row over every window, in words: report, window, row and what is off."""
        for z in (self, *self.windows):
            for e in z.examples:
                if e["kind"] == "drift":
                    return describe(e, self.name, z.days)
        return None


def describe(e: dict, zone: str, days: int) -> str:
    """A report row's example in words: the report and its window, the row, and each measure off with by how much."""
    row = " ".join(v for k, v in e.items() if k not in ("report", "kind", "tokens_off", "measures"))
    off = [f"{m} off by {d}" for m, d in e.get("measures", {}).items()]
    off = off if off or not e.get("tokens_off") else [f"tokens off by {e['tokens_off']}"]
    return f"{e['report']} ({days}-day window, {zone}) {row}: {', '.join(off)}"


def _report_delta(a: pl.DataFrame, b: pl.DataFrame, groups: list[str], measures: tuple[str, ...] = ()
                  ) -> pl.DataFrame:
    """Rows where `b` differs from `a`: `delta` sums the token sums' differences; each measure's own difference
    (b − a) is `<measure>_delta`, exact (an integer, or a decimal at its scale)."""
    joined = a.join(b, on=groups, how="full", nulls_equal=True, coalesce=True, suffix="_b").fill_null(0)
    delta = sum((pl.col(f"{c}_b") - pl.col(c)).abs() for c in TOKENS)
    joined = joined.with_columns(delta=delta, **{f"{m}_delta": pl.col(f"{m}_b") - pl.col(m) for m in measures})
    return joined.filter(pl.any_horizontal(pl.col("delta") > 0, *[pl.col(f"{m}_delta") != 0 for m in measures]))


def judge_zone(zone: str, whole_hour: bool, days: int, rows: pl.DataFrame, truth: pl.DataFrame, snap: Snapshot,
               exact: bool = False) -> ZoneResult:
    """One viewing zone's reports, as the read side gave them at a check (its instant: `snap.at`), against the
    truth sliced into the zone's days by the checker's own calendar, over the scenario's window and each further
    one the check read. `exact`: the read side claims the zone's true local days."""
    result = _judge_window(ZoneResult(zone, whole_hour, days=days), None, rows, truth, snap, exact)
    result.windows = [_judge_window(ZoneResult(zone, whole_hour, days=d), d, rows, truth, snap, exact)
                      for d in snap.window_days]
    return result


def _judge_window(result: ZoneResult, window: int | None, rows: pl.DataFrame, truth: pl.DataFrame, snap: Snapshot,
                  exact: bool) -> ZoneResult:
    """`result`'s figures over one window (`window`: a further one, else the scenario's: `result.days` long).
    Every measure a report carries is judged with the token sums: from hours by summing the hourly truth's, from
    the rows by the measure's own definition."""
    zone, days, now_us = result.name, result.days, snap.at
    local = days_.app_zone(zone)  # what the application means by the name ("Local": the server's zone, UTC)
    failed = snap.errors.get(zone, {})
    by_name = {m.name: m for m in snap.measures_of()}
    for kind, groups in REPORT_GROUPS.items():
        if kind in failed:
            result.error = failed[kind]
            continue
        from_rollup = snap.zone_reports(zone, kind, window)
        carried = tuple(c for c in from_rollup.columns if c in by_name and c not in (*groups, *TOKENS))
        cut = days_.cutoff_us(kind, zone, days, now_us)
        hourly = tuple(pl.col(m).sum() for m in carried)
        from_hours = report(truth, kind, local, cut, "bucket_hour", hourly).select(from_rollup.columns)
        direct = tuple(oracle.measure(by_name[m]) for m in carried)
        true_days = report(rows, kind, local, cut, "created_at", direct).select(from_rollup.columns)
        drift = _report_delta(from_hours, from_rollup, groups, carried)
        error = _report_delta(true_days, from_hours, groups, carried)
        if exact:  # its reports may be exact where hours are not: judge them against the truth
            drift = _report_delta(true_days, from_rollup, groups, carried)
        result.pipeline_drift += drift.height
        result.pipeline_drift_tokens += int(drift.get_column("delta").sum())
        result.representation_error += error.height if not exact else 0
        result.representation_error_tokens += int(error.get_column("delta").sum()) if not exact else 0
        result.true_tokens += int(true_days.select(pl.sum_horizontal(TOKENS).sum()).item())
        for label, frame in (("drift", drift), ("representation", error)):
            for r in frame.head(2).to_dicts():
                off = {m: _exact(d) for m in carried if (d := r[f"{m}_delta"])}
                result.examples.append({"report": kind, "kind": label, **{g: str(r[g]) for g in groups},
                                        "tokens_off": int(r["delta"]), **({"measures": off} if off else {})})
    return result


def _exact(d):
    """A measure's difference as JSON keeps it exactly: an integer, or a decimal's text."""
    return d if isinstance(d, int) else str(d)


@dataclass
class CheckResult:
    at: int
    final: bool
    hour: HourDiff
    zones: list[ZoneResult]
    apply_errors: int | None = None
    except_all: tuple[int, int] | None = None
    bad_keys: list[dict] = field(default_factory=list)
    error_lost: bool = False  # a tick failed and the state row did not say so (B8)
    truth_rows: int = 0  # keys in the hour-grain truth
    usage_invoked: int = 0  # usage reports in the history before this check, whatever their outcome
    usage_applied: int = 0  # those that took effect
    deletes_applied: int = 0  # deletes (of anything) that took effect before it: truth may rightly be empty
    tables: dict[str, HourDiff] = field(default_factory=dict)  # further rollup tables, each at its own grain
    grains: dict[str, int] = field(default_factory=dict)  # their grains, in minutes
    attribution: dict[tuple, tuple] = field(default_factory=dict)  # bad key -> the catalogue ids explaining it
    unexplained: list[dict] = field(default_factory=list)  # bad keys no mechanism explains, with what touched them

    @property
    def signature(self) -> set[str]:
        """The kinds of divergence this check saw, in the vocabulary of reproductions' signatures."""
        seen = {f"hour:{k}" for k, n in self.hour.summary.items() if n}
        seen |= {"report:drift"} if any(z.drift_rows for z in self.zones) else set()
        seen |= {"report:representation"} if any(z.representation_rows for z in self.zones) else set()
        seen |= {"report:error"} if any(z.error for z in self.zones) else set()
        seen |= {"state:error_lost"} if self.error_lost else set()
        seen |= {f"table:{k}" for diff in self.tables.values() for k, n in diff.summary.items() if n}
        return seen


def judge(seen: pl.DataFrame, snap: Snapshot, zones: dict[str, bool], days: int,
          exact: bool = False) -> CheckResult:
    """A check's verdict: a pure function of the history as it stood at the check (`history.as_seen`) and what
    was read from the database there. `zones` maps each viewing zone to whether it is whole-hour; `exact`: the
    read side claims exact local days (rollup/readside.py), declared with it, never read from its SQL."""
    rows = oracle.usage_rows(seen, snap.columns)
    measures = snap.measures_of()
    truth = oracle.hour_truth(rows, measures)
    diff = hour_diff(truth, snap.rollup, [m.name for m in measures])
    result = CheckResult(snap.at, snap.final, diff,
                         [judge_zone(z, whole, days, rows, truth, snap, exact) for z, whole in zones.items()],
                         error_lost=snap.error_lost)
    usage, ok = seen.filter(pl.col("f") == "usage"), pl.col("outcome") == "ok"
    for table, frame in snap.tables.items():  # further rollup tables: the truth summed at their grain
        grain = snap.grains[table] * 60_000_000
        rebucketed = rows.with_columns(bucket_hour=(pl.col("created_at") // grain) * grain)
        measures = snap.measures_of(table)
        result.tables[table] = hour_diff(oracle.hour_truth(rebucketed, measures), frame, [m.name for m in measures])
        result.grains[table] = snap.grains[table]
    result.truth_rows, result.usage_invoked, result.usage_applied = truth.height, usage.height, usage.filter(ok).height
    result.deletes_applied = seen.filter(pl.col("f").str.starts_with("delete_") & ok).height
    if snap.final:
        result.apply_errors = apply_diff(rows, snap.raw, [c.name for c in snap.columns])
        result.except_all = snap.except_all
    ctx = attribution.Evidence(seen) if diff.rows.height else None
    for n, key in enumerate(diff.rows.head(ATTRIBUTED).to_dicts()):
        hit = touching(seen, key)
        ids = attribution.explain(hit, key, ctx)
        result.attribution[tuple(key[k] for k in KEY)] = tuple(ids)
        entry = {"key": {k: key[k] for k in KEY}, "status": key["status"],
                 "deltas": diff.deltas(key),
                 "ops": excerpt(hit), "ops_total": hit.height, "explained_by": ids}
        if n < 20:
            result.bad_keys.append(entry)
        if not ids:
            result.unexplained.append(entry | {"touched": hit.get_column("i").to_list()})
    return result


def whole_hours(sc: Scenario, zones: list[str]) -> dict[str, bool]:
    """Each viewing zone, and whether UTC hours cut its days exactly over the reports' reach in the scenario."""
    since, end = sc.start - timedelta(days=sc.zones.report_days), sc.start + sc.duration
    return {z: days_.whole_hour(z, since, end) for z in zones}


def for_run(sc: Scenario, exact: bool) -> Callable[[pl.DataFrame, Snapshot, list[str]], CheckResult]:
    """The judgement a run makes at each of its checks, of the viewing zones it read there (the runner is
    handed it: the drive does not judge). `exact`: the read side claims exact local days (a name such as
    "faithful" is refused: any string would read as a claim)."""
    if not isinstance(exact, bool):
        raise TypeError(f"exact must be a bool, not {exact!r}")
    whole = whole_hours(sc, sc.view_zones())
    days = sc.zones.report_days
    return lambda seen, snap, zones: judge(seen, snap, {z: whole[z] for z in zones}, days, exact)
