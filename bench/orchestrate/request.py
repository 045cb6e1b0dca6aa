"""What a command asks of the roles, as values: the server to run on (`ServerSpec`), one scenario run
(`RunRequest`), and the record of a run that gave no verdict (`NoVerdict`). A request names the scenario by its
text, so a worker elsewhere needs no file of the client's (content shipping: bench/orchestrate/content.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rollup.extensions import AUTO


@dataclass(frozen=True)
class ServerSpec:
    """A PostgreSQL server to start: the backend (embedded, local, docker, dsn; `auto` before it is chosen), the
    connection URL for `dsn`, the directory of initdb/pg_ctl for `local`."""

    backend: str = "embedded"
    dsn: str | None = None
    pg_bin: str | None = None

    def start(self):
        from rollup.servers import start_server

        return start_server(self.backend, dsn=self.dsn, pg_bin=self.pg_bin)

    def chosen(self, targets: tuple[str, ...]) -> tuple[ServerSpec, str | None]:
        """This server with `auto` resolved for the targets' chains: the first backend with every extension they
        create; with the reason it was chosen (None: nothing was chosen)."""
        if self.backend != AUTO:
            return self, None
        from rollup.extensions import choose
        from rollup.migrations import Target

        ups = [m.up for t in targets for m in Target.resolve(t).migrations()]
        backend, why = choose(ups, self.pg_bin)
        return ServerSpec(backend, self.dsn, self.pg_bin), f"auto chose {backend}: {why}"

    def with_backend(self, backend: str) -> ServerSpec:
        return ServerSpec(backend, self.dsn, self.pg_bin)


@dataclass(frozen=True)
class ScenarioText:
    """A scenario file's text and where it came from (`source`: its path as the client names it)."""

    text: str
    source: str

    @classmethod
    def read(cls, path: Path) -> ScenarioText:
        from bench.workload.schema import ScenarioError

        try:
            return cls(path.read_text(encoding="utf-8"), str(path))
        except (OSError, UnicodeDecodeError) as e:
            raise ScenarioError(str(path), "file", None, f"cannot read: {e}") from None

    @property
    def stem(self) -> str:
        return Path(self.source).stem

    def load(self, seed: int | None = None):
        """The scenario, validated, with `seed` in place of its own (None: its own)."""
        from dataclasses import replace

        from bench.workload.scenario import loads

        sc = loads(self.text, source=self.source)
        return replace(sc, seed=seed) if seed is not None else sc


@dataclass(frozen=True)
class RunRequest:
    """One scenario run: the scenario (its text), the seed (None: the scenario's), the target and read side (as
    the client names them), the server, where the history and reports go, the expectation fields overriding the
    scenario's (a project's configuration), the accepted catalogue ids the divergence is judged against, and the
    replay line's template ({history}, {target}; empty: replay the history)."""

    scenario: ScenarioText
    target: str = "reference"
    seed: int | None = None
    server: ServerSpec = field(default_factory=ServerSpec)
    read_side: str | None = None
    report_dir: Path = Path("reports")
    expect: dict | None = None
    accept: tuple[str, ...] | None = None
    hint: str = ""
    shipment: object | None = None  # its files by digest, for a worker elsewhere (bench/orchestrate/content.py)

    @property
    def name(self) -> str:
        """How a line names the run: its scenario, seed and server."""
        seed = f" seed {self.seed}" if self.seed is not None else ""
        return f"{self.scenario.stem}{seed} on {self.server.backend}"


@dataclass(frozen=True)
class NoVerdict:
    """A run that gave no verdict: what went wrong as a command says it, and the exit code it stands for (1 the
    target's failure, a migration; 2 bad input or environment; a bug's traceback is 2 too)."""

    request: RunRequest
    error: str
    code: int = 2

    def __str__(self) -> str:
        return self.error
