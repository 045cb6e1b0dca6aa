"""The verdict as a typed record, and its JSON — the one place a verdict is written or read. The fields' order is
the JSON's (merge, JUnit and Markdown read files written by earlier versions, so the format does not change);
the parts below the top level (checks, zones, bad keys, attribution…) stay the JSON's own objects."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

# Optional keys: absent from the JSON when None (the rest are always written, null included).
_OPTIONAL = frozenset({"not_applicable", "coverage", "baseline", "server", "read_side", "replay", "report", "wall_seconds"})


@dataclass
class Verdict:
    scenario: str
    description: str = ""
    target: str = ""
    seed: int | None = None
    server_version: str = ""
    history: str = ""
    history_sha256: str = ""
    operations: dict = field(default_factory=dict)
    failures: dict = field(default_factory=dict)
    ticks: dict = field(default_factory=dict)
    checks: list[dict] = field(default_factory=list)
    ok: bool = False
    not_applicable: str | None = None  # why the run cannot be carried out on this chain (then nothing else ran)
    drift: dict = field(default_factory=dict)
    tables: list[dict] = field(default_factory=list)
    signature: list[str] = field(default_factory=list)
    coverage: dict | None = None
    baseline: dict | None = None
    repro: dict | None = None
    drift_by_check: list[dict] = field(default_factory=list)
    bad_keys: list[dict] = field(default_factory=list)
    attribution: dict = field(default_factory=dict)
    script: list[dict] = field(default_factory=list)
    zones: list[dict] = field(default_factory=list)
    server: str | None = None  # the backend it ran on (a batch's, a run's; not a re-judged one)
    read_side: str | None = None
    replay: str | None = None  # the command that replays it
    report: str | None = None  # its Markdown report
    wall_seconds: float | None = None  # informative only (JUnit's time)
    extra: dict = field(default_factory=dict)  # keys this version does not know, kept as read

    def failed_checks(self) -> list[dict]:
        return [c for c in self.checks if not c["ok"]]

    def to_json(self) -> dict:
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "extra" or (f.name in _OPTIONAL and value is None):
                continue
            out[f.name] = value
        return out | self.extra

    def dumps(self) -> str:
        return dumps(self.to_json())

    @classmethod
    def from_json(cls, doc: dict) -> Verdict:
        names = {f.name for f in fields(cls)} - {"extra"}
        return cls(**{k: v for k, v in doc.items() if k in names},
                   extra={k: v for k, v in doc.items() if k not in names})

    def __getitem__(self, key: str) -> Any:
        """The JSON's view, for tests written against the dict (`rollup_run`'s users): v["ok"] is v.ok."""
        return self.to_json()[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.to_json().get(key, default)

    def __contains__(self, key: str) -> bool:
        return key in self.to_json()


def dumps(doc: Any) -> str:
    """Every verdict file's and batch document's JSON text (indented; instants and paths as strings)."""
    return json.dumps(doc, indent=2, default=_plain)


def loads(text: str) -> Any:
    return json.loads(text)


def _plain(value: Any) -> Any:
    if isinstance(value, Verdict):
        return value.to_json()
    return str(value)


def write(path: Path, doc: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(doc))
