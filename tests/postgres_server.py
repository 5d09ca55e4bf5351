"""A real PostgreSQL server for tests, started and stopped by the tests themselves.

Test modules that need one import the session fixture::

    from postgres_server import postgres_fixture  # noqa: F401  (the fixture "postgres")

    def test_something(postgres):
        dsn = postgres.dsn(password="s3cret")     # trust auth: any password is accepted

The server is a fresh cluster: ``initdb`` into a temporary directory, listening on a free
127.0.0.1 port and on a unix socket in that directory, stopped (``pg_ctl stop -m fast``) and
removed when the session ends, also after failing tests. As root it runs as the ``postgres``
user (PostgreSQL refuses to run as root). Without PostgreSQL or psycopg the tests that use
it are skipped with the command that installs what is missing. Nothing assumes a server
that is already running.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from suite_helpers import free_port

INSTALL_SERVER = "PostgreSQL is not installed: apt-get install -y postgresql"
INSTALL_DRIVER = "psycopg is not installed: python3 -m pip install 'psycopg[binary]>=3.1'"
SERVER_USER = "postgres"  # the OS account the server runs as when the tests run as root
SUPERUSER = "postgres"  # the database superuser initdb creates


def find_bindir() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``: pg_config's, Debian's, or PATH's."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if found.returncode == 0:
            candidates.append(Path(found.stdout.strip()))
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += sorted((Path(p) for p in versions), key=_major_version, reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    return None


def _major_version(bindir: Path) -> int:
    name = bindir.parent.name
    return int(name) if name.isdigit() else 0


@dataclass
class PostgresServer:
    """A running cluster: where it listens and how to reach it."""

    bindir: Path
    directory: Path  # data/, the socket and the log live here
    port: int
    host: str = "127.0.0.1"

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def log(self) -> Path:
        return self.directory / "server.log"

    def dsn(self, dbname: str = "postgres", password: str = "") -> str:
        """A URL over TCP; trust authentication accepts any ``password``."""
        auth = f"{SUPERUSER}:{password}" if password else SUPERUSER
        return f"postgresql://{auth}@{self.host}:{self.port}/{dbname}"

    def databases(self, prefix: str) -> list[str]:
        """Names of the databases whose name starts with ``prefix``."""
        import psycopg

        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            rows = conn.execute(
                "SELECT datname FROM pg_database WHERE starts_with(datname, %s) ORDER BY 1",
                (prefix,),
            ).fetchall()
        return [name for (name,) in rows]

    def run(self, *command: str) -> subprocess.CompletedProcess[str]:
        """Run a server program (initdb, pg_ctl) as the server's user."""
        argv = [str(self.bindir / command[0]), *command[1:]]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", SERVER_USER, "--", *argv]
        return subprocess.run(argv, capture_output=True, text=True, timeout=120)

    def start(self) -> None:
        _check(self.run("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust"))
        options = (
            f"-c listen_addresses={self.host} -c port={self.port} "
            f"-c unix_socket_directories={self.directory} -c fsync=off"
        )
        _check(
            self.run(
                "pg_ctl", "start", "-w", "-D", str(self.data), "-l", str(self.log), "-o", options
            ),
            self.log,
        )

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.run("pg_ctl", "stop", "-m", "fast", "-w", "-D", str(self.data))


def _check(done: subprocess.CompletedProcess[str], log: Path | None = None) -> None:
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
        raise RuntimeError(f"{done.args}: exit {done.returncode}\n{done.stdout}{done.stderr}{tail}")


def _make_directory() -> Path:
    # Not under pytest's tmp_path: that is 0700 root, which the postgres user cannot enter.
    directory = Path(tempfile.mkdtemp(prefix="pbdd-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, SERVER_USER, SERVER_USER)
    return directory


def _skip_reason() -> str:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return INSTALL_DRIVER
    if find_bindir() is None:
        return INSTALL_SERVER
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return f"running as root needs the {SERVER_USER!r} user: {INSTALL_SERVER}"
    return ""


@pytest.fixture(scope="session", name="postgres")
def postgres_fixture() -> Iterator[PostgresServer]:
    """A PostgreSQL cluster for the whole test session; gone when the session ends."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    bindir = find_bindir()
    assert bindir is not None
    server = PostgresServer(bindir, _make_directory(), free_port())
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.directory, ignore_errors=True)
