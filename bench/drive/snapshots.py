"""What the runner records at each check, for the checker to judge then or later, offline.

At a check the database is asked only for what the checker cannot compute from the history: the rollup's rows,
the read side's reports in every viewing zone over the scenario's window and the short ones of WINDOWS (or the
error a report gave), with the declared measures they carry beside the token sums, and, at the final check, the raw
usage rows and the in-database EXCEPT ALL counts. Whether a failed tick left a trace in the state row (B8) is
noted when it happens. Everything is kept beside the history, in `<history>.checks/`: a JSON index and Parquet
frames. The verdict is then a pure function of the history and its snapshots, and `rollup-bench check HISTORY`
can judge a run again without a database, say after a fix to the checker. What the target declares beyond the
defaults — measures of its tables, optional raw usage columns (rollups.toml) — is kept in the index too, since the
checker judges by it.
"""

from __future__ import annotations

import dataclasses

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import polars as pl
import psycopg

from bench.drive import reads
from bench.workload.columns import KEYLIKE, REPORT_GROUPS, TOKENS, measure_dtype
from rollup.measures import DEFAULT_MEASURES, Column, Measure
from rollup.migrations import HOURLY
from rollup.readside import ReadSide

INDEX = "index.json"
# Report windows every check reads besides the scenario's own (report_days): short ones, whose cutoff falls inside
# the data, so that a cutoff a day off or taken in the wrong zone shows (issue 36).
WINDOWS = (1, 7)
REPORT_SCHEMA = {"zone": pl.String, "kind": pl.String, "scope": pl.String, "date": pl.Date, "agent_id": pl.String,
                 "provider": pl.String, "model": pl.String, **{c: pl.Int64 for c in TOKENS}}


@dataclass
class Snapshot:
    op: int  # the check's index in the history
    at: int  # its simulated time, µs
    final: bool
    rollup: pl.DataFrame  # task_usage_hourly, as reads.rollup_snapshot reads it
    reports: pl.DataFrame  # REPORT_SCHEMA: every zone's reports, from the read side's SQL
    errors: dict[str, dict[str, str]]  # zone -> report kind -> the error it gave
    error_lost: bool  # a tick failed earlier and the state row did not say so (B8)
    raw: pl.DataFrame | None = None  # final check: the raw usage rows (reads.raw_rows)
    except_all: tuple[int, int] | None = None  # final check: (rollup rows not derivable, derivable rows missing)
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)  # further rollup tables, read like the hourly
    grains: dict[str, int] = field(default_factory=dict)  # their grains, in minutes
    measures: dict[str, tuple[Measure, ...]] = field(default_factory=dict)  # per table, when not the defaults
    columns: tuple[Column, ...] = ()  # the target's optional raw usage columns (the raw rows carry them)
    report_measures: dict[str, tuple[str, ...]] = field(default_factory=dict)  # kind -> measures beside the tokens
    windows: pl.DataFrame | None = None  # the reports over the further windows (WINDOWS), a `days` column more

    def measures_of(self, table: str = HOURLY.table) -> tuple[Measure, ...]:
        return self.measures.get(table, DEFAULT_MEASURES)

    @property
    def window_days(self) -> list[int]:
        """The further windows this check read (none for a history recorded before they were read)."""
        return [] if self.windows is None else sorted(self.windows.get_column("days").unique().to_list())

    def zone_reports(self, zone: str, kind: str, days: int | None = None) -> pl.DataFrame:
        """One zone's report of one kind, with its own columns (the scope named as the report names it); `days`:
        over one of the further windows rather than the scenario's."""
        groups = REPORT_GROUPS[kind]
        frame = self.reports if days is None else self.windows.filter(pl.col("days") == days)
        frame = frame.filter((pl.col("zone") == zone) & (pl.col("kind") == kind))
        carried = [m for m in self.report_measures.get(kind, ()) if m in frame.columns]
        return frame.rename({"scope": groups[0]}).select(*groups, *TOKENS, *carried)


@dataclass(frozen=True)
class Moment:
    """Where a check stands: its operation's index, its simulated instant (µs, and as a datetime), whether it is
    the final one, whether a failed tick has left last_error empty so far."""

    op: int
    at: int
    now: datetime
    final: bool
    error_lost: bool


@dataclass(frozen=True)
class Plan:
    """What a check reads: the viewing zones and report days, the scopes (workspaces and runtimes the history
    created, by column), the read side, the target's rollup tables and its optional raw usage columns."""

    zones: list[str]
    days: int
    scopes: dict[str, list[str]]
    side: ReadSide
    rollups: list | None = None
    columns: tuple[Column, ...] = ()


def capture(conn: psycopg.Connection, moment: Moment, plan: Plan) -> Snapshot:
    """Read what a check needs from the database. Reports are read through the plan's side, for every workspace
    and runtime in its scopes (those the history created, by column) or in the rollup, over the scenario's window
    (`days`) and the further WINDOWS. `rollups`: the target's tables (Target.rollups), the hourly one among them
    with its measures."""
    op, at, now, final, error_lost = moment.op, moment.at, moment.now, moment.final, moment.error_lost
    days, scopes, rollups, columns = plan.days, plan.scopes, plan.rollups, plan.columns
    rollups = rollups or [HOURLY]
    hourly = next((r for r in rollups if r.table == HOURLY.table), HOURLY)
    rollup = reads.rollup_snapshot(conn, hourly, columns)
    scopes = {c: sorted(set(ids) | set(rollup.get_column(c).cast(pl.String).to_list())) for c, ids in scopes.items()}
    additive = {m.name: measure_dtype(m, columns) for m in hourly.measures if m.agg != "count_distinct"}
    errors: dict[str, dict[str, str]] = {}
    carried: dict[str, tuple[str, ...]] = {}
    plan = dataclasses.replace(plan, scopes=scopes)  # those the rollup holds too
    reports = _reports(conn, plan, (days, now), additive, errors, carried)
    further = [d for d in WINDOWS if d != days]
    windows = pl.concat([_reports(conn, plan, (d, now), additive, errors, carried)
                         .with_columns(days=pl.lit(d, pl.Int32)) for d in further]) if further else None
    snap = Snapshot(op, at, final, rollup, reports, errors, error_lost, columns=columns,
                    measures={r.table: r.measures for r in rollups if r.measures != DEFAULT_MEASURES},
                    report_measures={k: v for k, v in carried.items() if v}, windows=windows)
    for r in rollups:  # the target's further rollup tables (rollup.migrations.Target.rollups)
        if r.table != HOURLY.table:
            snap.tables[r.table], snap.grains[r.table] = reads.rollup_snapshot(conn, r, columns), r.grain_minutes
    if final:
        snap.raw, snap.except_all = reads.raw_rows(conn, columns), reads.except_all(conn, hourly, columns)
    return snap


def _reports(conn: psycopg.Connection, plan: Plan, window: tuple[int, datetime], measures: dict, errors: dict,
             carried: dict) -> pl.DataFrame:
    """Every zone's reports over one window (its days, ending at its instant), in REPORT_SCHEMA and the measures they carry (noted in `carried`,
    by kind); a report's error is noted in `errors` (the first a zone's report gives)."""
    frames = []
    for zone in plan.zones:
        for kind, groups in REPORT_GROUPS.items():
            try:
                rows, have = reads.sql_report(conn, kind, zone, window, plan.scopes[groups[0]], plan.side, measures)
            except psycopg.Error as exc:
                errors.setdefault(zone, {}).setdefault(kind, f"{kind}: {exc.sqlstate}: {exc.diag.message_primary}")
                continue
            carried[kind] = tuple(dict.fromkeys((*carried.get(kind, ()), *have)))
            frames.append(rows.rename({groups[0]: "scope"}).with_columns(zone=pl.lit(zone), kind=pl.lit(kind)))
    schema = REPORT_SCHEMA | {m: measures[m] for ms in carried.values() for m in ms}
    return pl.concat([f.select([pl.col(c).cast(t) if c in f.columns else pl.lit(None, t).alias(c)
                                for c, t in schema.items()]) for f in frames]) if frames \
        else pl.DataFrame(schema=schema)


def folder(history: Path) -> Path:
    return Path(f"{history}.checks")


def save(history: Path, snapshots: list[Snapshot], meta: dict) -> None:
    """Write the newest snapshot's frames and the index of all so far (a run cut short keeps what it had)."""
    out = folder(history)
    out.mkdir(parents=True, exist_ok=True)
    snap = snapshots[-1]
    snap.rollup.write_parquet(out / f"{snap.op}.rollup.parquet")
    snap.reports.write_parquet(out / f"{snap.op}.reports.parquet")
    if snap.raw is not None:
        snap.raw.write_parquet(out / f"{snap.op}.raw.parquet")
    if snap.windows is not None:
        snap.windows.write_parquet(out / f"{snap.op}.windows.parquet")
    for table, frame in snap.tables.items():
        frame.write_parquet(out / f"{snap.op}.{table}.parquet")
    index = {**meta, "checks": [{"op": s.op, "at": s.at, "final": s.final, "errors": s.errors,
                                 "error_lost": s.error_lost, "except_all": s.except_all,
                                 **({"tables": s.grains} if s.grains else {}),
                                 **({"measures": {t: {m.name: m.declaration() for m in ms}
                                                  for t, ms in s.measures.items()}} if s.measures else {}),
                                 **({"columns": {c.name: c.header() for c in s.columns}} if s.columns else {}),
                                 **({"report_measures": s.report_measures} if s.report_measures else {}),
                                 **({"windows": s.window_days} if s.windows is not None else {})}
                                for s in snapshots]}
    (out / INDEX).write_text(json.dumps(index, indent=1))


def recorded(history: Path) -> dict:
    """The index's entries besides the checks (target, read side, zones); empty for a history without checks."""
    path = folder(history) / INDEX
    return {k: v for k, v in json.loads(path.read_text()).items() if k != "checks"} if path.is_file() else {}


def _categorical(frame: pl.DataFrame) -> pl.DataFrame:
    """Ids and names categorical, as the live checker reads them (so frames join)."""
    return frame.with_columns(pl.col(x).cast(pl.Categorical) for x in frame.columns
                              if frame.schema[x] == pl.String and x in KEYLIKE)


def load(history: Path) -> tuple[dict, list[Snapshot]]:
    """The index's other entries (target, read side) and every snapshot, in order."""
    out = folder(history)
    index = json.loads((out / INDEX).read_text())
    snaps = []
    for c in index.pop("checks"):
        raw, windows = out / f"{c['op']}.raw.parquet", out / f"{c['op']}.windows.parquet"
        snaps.append(Snapshot(
            c["op"], c["at"], c["final"], _categorical(pl.read_parquet(out / f"{c['op']}.rollup.parquet")),
            pl.read_parquet(out / f"{c['op']}.reports.parquet"), c["errors"], c["error_lost"],
            _categorical(pl.read_parquet(raw)) if raw.exists() else None,
            tuple(c["except_all"]) if c["except_all"] else None,
            {t: _categorical(pl.read_parquet(out / f"{c['op']}.{t}.parquet")) for t in c.get("tables", {})},
            dict(c.get("tables", {})),
            {t: tuple(_measure(n, d) for n, d in ms.items()) for t, ms in c.get("measures", {}).items()},
            tuple(Column.from_header(n, e) for n, e in c.get("columns", {}).items()),
            {k: tuple(v) for k, v in c.get("report_measures", {}).items()},
            pl.read_parquet(windows) if "windows" in c and windows.exists() else None))  # (older: none)
    return index, snaps


def _measure(name: str, declaration: dict) -> Measure:
    agg = next(k for k in declaration if k != "where")
    return Measure(name, agg, declaration[agg], declaration.get("where"))
