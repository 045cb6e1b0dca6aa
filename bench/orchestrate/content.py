"""Content shipping, for workers on other machines (a Dask cluster): a request carries the scenario's text, and
the files of its target and read side by content digest; each worker keeps the files it was sent in a cache by
digest and lays out the request's folders from it. The run writes into a scratch folder there, and what it wrote
(history, snapshots, JSON and Markdown) comes back with the verdict, its paths the client's, to be written in the
client's report folder — so every replay line points at a file the user has.

Named targets and built-in read sides are not shipped: they come with the bench, which every worker imports."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from bench.judge import record
from bench.judge.record import Verdict
from bench.orchestrate.request import RunRequest

CACHE = Path(tempfile.gettempdir()) / "rollup-bench-cache"  # a worker's: blobs/<sha256>, trees/<bundle digest>/


@dataclass(frozen=True)
class Shipment:
    """The files a request needs, each (path relative to their common folder, sha256); where in that tree the
    target's directories and the read side's file are. `digest` names the whole."""

    files: tuple[tuple[str, str], ...]
    target_dirs: tuple[str, ...]  # empty: a named target
    read_side: str | None  # None: a built-in one (or the target's own)

    @property
    def digest(self) -> str:
        return hashlib.sha256(repr(self.files).encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Returned:
    """What a remote run wrote, relative to its report folder: name -> bytes."""

    files: tuple[tuple[str, bytes], ...]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pack(req: RunRequest, blobs: dict[str, bytes]) -> RunRequest:
    """The request with its files shipped: their digests in it, their bytes added to `blobs` (sent once per
    worker). Even with no file to ship (a named target, a built-in read side), it is marked shipped: what the
    run writes comes back."""
    from rollup.migrations import NAMED_TARGETS, Target
    from rollup.readside import BUILT_IN
    from rollup.readside import load as load_read_side

    dirs = [] if req.target in NAMED_TARGETS else [Path(d).resolve() for d in req.target.split(",") if d]
    side = None if req.read_side in (None, *BUILT_IN) else Path(req.read_side).resolve()
    paths = [p for d in dirs for p in sorted(d.iterdir()) if p.is_file()]
    if side is not None:
        loaded = load_read_side(req.read_side)
        queries = loaded.queries if isinstance(loaded.queries, (list, tuple)) else [loaded.queries]
        paths += [side, *(Path(q).resolve() for q in queries)]
    Target.resolve(req.target, req.read_side)  # said here, as a run here would say it
    root = Path(os.path.commonpath([p.parent for p in paths])) if paths else Path("/")
    files = {}
    for p in paths:
        data = p.read_bytes()
        blobs[_sha(data)] = data
        files[str(p.relative_to(root))] = _sha(data)
    ship = Shipment(tuple(sorted(files.items())), tuple(str(d.relative_to(root)) for d in dirs),
                    str(side.relative_to(root)) if side else None)
    return replace(req, shipment=ship)


def keep(blobs: dict[str, bytes]) -> None:
    """A worker's cache: each blob once, by its digest."""
    folder = CACHE / "blobs"
    folder.mkdir(parents=True, exist_ok=True)
    for digest, data in blobs.items():
        path = folder / digest
        if not path.exists():
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(data)
            tmp.replace(path)


def _tree(ship: Shipment) -> Path:
    """The shipment's folders laid out from the cache (once per worker and shipment)."""
    root = CACHE / "trees" / ship.digest
    if not (root / ".complete").exists():
        root.mkdir(parents=True, exist_ok=True)
        for rel, digest in ship.files:
            dest = root / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(CACHE / "blobs" / digest, dest)
        (root / ".complete").touch()
    return root


def target_of(req: RunRequest):
    """A shipped request's target, resolved from the worker's copy of its files, named as the client names it
    (histories and verdicts say the client's names); None for a request that was not shipped."""
    ship = req.shipment
    if ship is None:
        return None
    from rollup.migrations import Target
    from rollup.readside import load as load_read_side

    root = _tree(ship)
    spec = ",".join(str(root / d) for d in ship.target_dirs) or req.target
    side = str(root / ship.read_side) if ship.read_side else req.read_side
    local = Target.resolve(spec, side)
    named = Target(req.target, local.dirs, req.read_side)
    named.__dict__["reads"] = replace(load_read_side(side), name=req.read_side) if ship.read_side else local.reads
    return named


def scratch(req: RunRequest) -> RunRequest:
    """A shipped request writes in a scratch folder of the worker's, not in the client's report folder."""
    if req.shipment is None:
        return req
    return replace(req, report_dir=Path(tempfile.mkdtemp(prefix="rollup-bench-run-")))


def returned(asked: RunRequest, ran: RunRequest, v: Verdict) -> Verdict:
    """The verdict with the scratch folder's paths made the client's, and what the run wrote carried back."""
    if asked.shipment is None:
        return v
    here, there = str(ran.report_dir), str(asked.report_dir)
    v = Verdict.from_json(record.loads(record.dumps(v).replace(_json_str(here), _json_str(there))))
    files = []
    for path in sorted(p for p in ran.report_dir.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if path.suffix in (".json", ".md"):
            data = data.decode().replace(_json_str(here) if path.suffix == ".json" else here,
                                         _json_str(there) if path.suffix == ".json" else there).encode()
        files.append((str(path.relative_to(ran.report_dir)), data))
    shutil.rmtree(ran.report_dir, ignore_errors=True)
    v.extra["_returned"] = Returned(tuple(files))
    return v


def _json_str(text: str) -> str:
    return record.dumps(text)[1:-1]


def land(v: Verdict, report_dir: Path) -> Verdict:
    """On the client: a remote run's files written in its report folder."""
    back = v.extra.pop("_returned", None)
    if back is not None:
        for rel, data in back.files:
            path = report_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    return v
