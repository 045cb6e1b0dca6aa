"""What the runner records at each check, for the checker to judge then or later, offline.

At a check the database is asked only for what the checker cannot compute from the history: the rollup's rows,
the read side's reports in every viewing zone (or the error a report gave), and, at the final check, the raw
usage rows and the in-database EXCEPT ALL counts. Whether a failed tick left a trace in the state row (B8) is
noted when it happens. Everything is kept beside the history, in `<history>.checks/`: a JSON index and Parquet
frames. The verdict is then a pure function of the history and its snapshots, and `rollup-bench check HISTORY`
can judge a run again without a database, say after a fix to the checker.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import polars as pl
import psycopg

from bench.drive import reads
from bench.workload.columns import KEYLIKE, REPORT_GROUPS, TOKENS
from rollup.migrations import HOURLY

INDEX = "index.json"
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

    def zone_reports(self, zone: str, kind: str) -> pl.DataFrame:
        """One zone's report of one kind, with its own columns (the scope named as the report names it)."""
        groups = REPORT_GROUPS[kind]
        frame = self.reports.filter((pl.col("zone") == zone) & (pl.col("kind") == kind))
        return frame.rename({"scope": groups[0]}).select(*groups, *TOKENS)


def capture(conn: psycopg.Connection, op: int, at: int, now: datetime, final: bool, zones: list[str], days: int,
            scopes: dict[str, list[str]], read_side: str, error_lost: bool, rollups: list | None = None) -> Snapshot:
    """Read what a check needs from the database. Reports cover every workspace and runtime in `scopes` (those
    the history created, by column) or in the rollup."""
    rollup = reads.rollup_snapshot(conn)
    scopes = {c: sorted(set(ids) | set(rollup.get_column(c).cast(pl.String).to_list())) for c, ids in scopes.items()}
    frames, errors = [], {}
    for zone in zones:
        for kind, groups in REPORT_GROUPS.items():
            try:
                rows = reads.sql_report(conn, kind, zone, days, now, scopes[groups[0]], read_side)
            except psycopg.Error as exc:
                errors.setdefault(zone, {})[kind] = f"{kind}: {exc.sqlstate}: {exc.diag.message_primary}"
                continue
            frames.append(rows.rename({groups[0]: "scope"}).with_columns(zone=pl.lit(zone), kind=pl.lit(kind)))
    reports = pl.concat([f.select([pl.col(c).cast(t) if c in f.columns else pl.lit(None, t).alias(c)
                                   for c, t in REPORT_SCHEMA.items()]) for f in frames]) if frames \
        else pl.DataFrame(schema=REPORT_SCHEMA)
    snap = Snapshot(op, at, final, rollup, reports, errors, error_lost)
    for r in rollups or []:  # the target's further rollup tables (rollup.migrations.Target.rollups)
        if r.table != HOURLY.table:
            snap.tables[r.table], snap.grains[r.table] = reads.rollup_snapshot(conn, r), r.grain_minutes
    if final:
        snap.raw, snap.except_all = reads.raw_rows(conn), reads.except_all(conn)
    return snap


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
    for table, frame in snap.tables.items():
        frame.write_parquet(out / f"{snap.op}.{table}.parquet")
    index = {**meta, "checks": [{"op": s.op, "at": s.at, "final": s.final, "errors": s.errors,
                                 "error_lost": s.error_lost, "except_all": s.except_all,
                                 **({"tables": s.grains} if s.grains else {})} for s in snapshots]}
    (out / INDEX).write_text(json.dumps(index, indent=1))


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
        raw = out / f"{c['op']}.raw.parquet"
        snaps.append(Snapshot(c["op"], c["at"], c["final"], _categorical(pl.read_parquet(out / f"{c['op']}.rollup.parquet")),
                              pl.read_parquet(out / f"{c['op']}.reports.parquet"), c["errors"], c["error_lost"],
                              _categorical(pl.read_parquet(raw)) if raw.exists() else None,
                              tuple(c["except_all"]) if c["except_all"] else None,
                              {t: _categorical(pl.read_parquet(out / f"{c['op']}.{t}.parquet")) for t in c.get("tables", {})},
                              dict(c.get("tables", {}))))
    return index, snaps
