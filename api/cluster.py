"""A local PostgreSQL + PostGIS cluster owned by the application or by a test run.

The app uses one under ``var/postgres`` when no ``DATABASE_URL`` is configured: it is
created once, started on demand, reused when already running, and stopped with
``psq db stop``. The test suite starts a throwaway one in a temporary directory.

PostgreSQL refuses to run as root: when the current user is root, the server runs as
the ``postgres`` system user (through ``runuser``). If that user cannot reach the
project directory (e.g. a clone under ``/root``), the data lives under
``/var/lib/psq-secteurs/`` and ``var/postgres`` is a symbolic link to it.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

DEFAULT_PORT = 55432
DEFAULT_DATABASE = "psq"
SERVICE_USER = "postgres"


class ClusterError(RuntimeError):
    """The local cluster cannot be created, started or reached."""


def find_bindir() -> Path:
    """Directory of the PostgreSQL server binaries (``initdb``, ``pg_ctl``).

    ``PSQ_PG_BINDIR`` wins; else the newest ``/usr/lib/postgresql/*/bin`` (Debian);
    else the directory of an ``initdb`` on ``PATH``.
    """
    if env := os.environ.get("PSQ_PG_BINDIR"):
        return Path(env)
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return candidates[-1].parent
    if found := shutil.which("initdb"):
        return Path(found).parent
    raise ClusterError(
        "PostgreSQL server binaries not found (no initdb): install them "
        "(Debian: apt-get install postgresql postgresql-15-postgis-3) or set DATABASE_URL"
    )


def free_port(preferred: int | None = None) -> int:
    """``preferred`` when nothing listens on it on 127.0.0.1, else a free port."""
    if preferred is not None and not _port_in_use(preferred):
        return preferred
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _pid_is_postmaster_of(pid: int, data_dir: Path) -> bool:
    """True when ``pid`` is a postgres server started on ``data_dir`` (not just any
    postgres: after a reboot a stale pid file may name another cluster's server)."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    if not args or not args[0].endswith(b"postgres"):
        return False
    wanted = data_dir.resolve()
    return any(
        flag == b"-D" and Path(os.fsdecode(value)).resolve() == wanted
        for flag, value in itertools.pairwise(args)
    )


@dataclass(frozen=True)
class ClusterStatus:
    initialised: bool
    running: bool
    port: int | None
    pid: int | None
    data_dir: Path
    url: str | None


class LocalCluster:
    """A PostgreSQL cluster in a directory of its own, listening on 127.0.0.1 only.

    Parameters
    ----------
    root
        Directory that holds ``data/`` (the cluster), ``run/`` (its socket),
        ``postgres.log`` and ``port`` (the port chosen at creation).
    port
        Port to use when the cluster is created; another free one is picked if busy.
    database
        Database created (with the PostGIS extension) on first start.
    durable
        ``False`` turns ``fsync`` off: for throwaway test clusters only.
    """

    def __init__(
        self,
        root: Path,
        *,
        port: int = DEFAULT_PORT,
        database: str = DEFAULT_DATABASE,
        durable: bool = True,
    ) -> None:
        self.root = root
        self.preferred_port = port
        self.database = database
        self.durable = durable
        self._as_root = os.geteuid() == 0

    # -- paths ---------------------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    @property
    def log_file(self) -> Path:
        return self.root / "postgres.log"

    @property
    def _port_file(self) -> Path:
        return self.root / "port"

    @property
    def port(self) -> int | None:
        try:
            return int(self._port_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def url(self, database: str | None = None) -> str:
        port = self.port
        if port is None:
            raise ClusterError(f"the cluster under {self.root} has not been created yet")
        return f"postgresql+psycopg://{SERVICE_USER}@127.0.0.1:{port}/{database or self.database}"

    # -- commands ------------------------------------------------------------------------
    def _run(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", SERVICE_USER, "--"] if self._as_root else []
        return subprocess.run(
            [*prefix, *map(str, args)], capture_output=True, text=True, check=False
        )

    def _check(self, *args: str | Path) -> str:
        done = self._run(*args)
        if done.returncode != 0:
            raise ClusterError(
                f"{Path(str(args[0])).name} failed ({done.returncode}): "
                f"{(done.stderr or done.stdout).strip()}"
            )
        return done.stdout

    def _prepare_root(self) -> None:
        """Create ``root``, owned by the service user when running as root."""
        if self._as_root and not self.root.exists():
            self.root.parent.mkdir(parents=True, exist_ok=True)
            self.root.mkdir()
            shutil.chown(self.root, SERVICE_USER, SERVICE_USER)
            if self._run("test", "-w", self.root).returncode != 0:
                # The service user cannot reach the project directory: keep the data
                # where it can, and leave a link at the expected place.
                digest = hashlib.sha1(str(self.root.resolve()).encode()).hexdigest()[:12]
                elsewhere = Path("/var/lib/psq-secteurs") / digest
                elsewhere.mkdir(parents=True, exist_ok=True)
                shutil.chown(elsewhere, SERVICE_USER, SERVICE_USER)
                self.root.rmdir()
                self.root.symlink_to(elsewhere, target_is_directory=True)
        else:
            self.root.mkdir(parents=True, exist_ok=True)

    def is_initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def init(self) -> None:
        """Create the cluster (``initdb``) unless it exists. Trust auth, loopback only."""
        if self.is_initialised():
            return
        bindir = find_bindir()
        self._check_postgis_installed(bindir)
        self._prepare_root()
        self._check(
            bindir / "initdb",
            "-D",
            self.data_dir,
            "-U",
            SERVICE_USER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        self._port_file.write_text(f"{free_port(self.preferred_port)}\n")

    @staticmethod
    def _check_postgis_installed(bindir: Path) -> None:
        version = bindir.parent.name
        share = Path("/usr/share/postgresql") / version / "extension"
        if share.exists() and not list(share.glob("postgis.control")):
            raise ClusterError(
                f"PostGIS is not installed for PostgreSQL {version}: "
                f"apt-get install postgresql-{version}-postgis-3"
            )

    def _remove_stale_pid_file(self) -> bool:
        """Remove ``postmaster.pid`` if no live postgres process holds it."""
        pid_file = self.data_dir / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return False
        if _pid_is_postmaster_of(pid, self.data_dir):
            return False
        pid_file.unlink(missing_ok=True)
        return True

    def is_running(self) -> bool:
        if not self.is_initialised():
            return False
        done = self._run(find_bindir() / "pg_ctl", "status", "-D", self.data_dir)
        return done.returncode == 0 and self._server_pid() is not None

    def _server_pid(self) -> int | None:
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None
        return pid if _pid_is_postmaster_of(pid, self.data_dir) else None

    def start(self) -> str:
        """Create if needed, start unless running, ensure the database; return its URL."""
        self.init()
        if not self.is_running():
            self._remove_stale_pid_file()
            port = self.port
            if port is None or _port_in_use(port):
                port = free_port(self.preferred_port)
                self._port_file.write_text(f"{port}\n")
            self.socket_dir.mkdir(exist_ok=True)
            if self._as_root:
                shutil.chown(self.socket_dir, SERVICE_USER, SERVICE_USER)
            options = f"-p {port} -k {self.socket_dir} -c listen_addresses=127.0.0.1"
            if not self.durable:
                options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            self._check(
                find_bindir() / "pg_ctl",
                "start",
                "-D",
                self.data_dir,
                "-l",
                self.log_file,
                "-w",
                "-t",
                "60",
                "-o",
                options,
            )
        self._ensure_database()
        return self.url()

    def _ensure_database(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = psycopg.connect(self._dsn("postgres"), autocommit=True)
                break
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise ClusterError(f"cannot connect to the local cluster: {exc}") from exc
                time.sleep(0.2)
        with conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{self.database}"')
        with psycopg.connect(self._dsn(self.database), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    def _dsn(self, database: str) -> str:
        return f"host=127.0.0.1 port={self.port} user={SERVICE_USER} dbname={database}"

    def stop(self) -> bool:
        """Stop the server; ``False`` when it was not running."""
        if not self.is_running():
            self._remove_stale_pid_file()
            return False
        mode = "fast" if self.durable else "immediate"
        self._check(find_bindir() / "pg_ctl", "stop", "-D", self.data_dir, "-m", mode, "-w")
        return True

    def status(self) -> ClusterStatus:
        running = self.is_running()
        return ClusterStatus(
            initialised=self.is_initialised(),
            running=running,
            port=self.port,
            pid=self._server_pid() if running else None,
            data_dir=self.data_dir,
            url=self.url() if self.port is not None else None,
        )

    def destroy(self) -> None:
        """Stop the server and delete the cluster's files (throwaway clusters)."""
        with contextlib.suppress(ClusterError):
            self.stop()
        target = self.root.resolve()
        shutil.rmtree(target, ignore_errors=True)
        if self.root.is_symlink():
            self.root.unlink()
