"""A real Redis server for tests, started and stopped by the tests themselves.

Test modules that need one import the fixtures::

    from redis_server import redis_server, redis_aof_server  # noqa: F401

    def test_something(redis_server):
        url = redis_server.url()

``redis_server`` (one per module) runs without persistence (``--save '' --appendonly
no``); ``redis_aof_server`` (one per test) appends every write to an AOF file, so
``restart()`` brings the same data back on the same port. Both listen on a free 127.0.0.1
port with their files in a temporary directory, and are stopped at the end, also after
failing tests. Without ``redis-server`` or redis-py the tests are skipped with the command
that installs what is missing. Nothing assumes a server that is already running.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from suite_helpers import free_port

INSTALL_SERVER = "redis-server is not installed: apt-get install -y redis-server"
INSTALL_DRIVER = "redis-py is not installed: python3 -m pip install 'redis[hiredis]>=5.0'"
START_TIMEOUT = 20.0


@dataclass
class RedisServer:
    """A running ``redis-server``: where it listens; ``restart`` for the AOF variant."""

    directory: Path
    port: int
    aof: bool = False
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def url(self, db: int = 0, password: str = "") -> str:
        auth = f":{password}@" if password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/{db}"

    def client(self, db: int = 0):  # type: ignore[no-untyped-def]
        import redis

        return redis.Redis(port=self.port, db=db, decode_responses=False)

    def command(self) -> list[str]:
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if self.aof else []
        return [
            shutil.which("redis-server") or "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.directory),
            "--save",
            "",
            "--appendonly",
            "no",
            *persistence,
        ]

    def start(self) -> None:
        log = open(self.directory / "server.log", "ab")  # noqa: SIM115 (the server's own)
        self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.wait_for_ping()

    def wait_for_ping(self) -> None:
        """Poll ``PING`` until it answers (a deadline, no fixed sleep)."""
        import redis

        deadline = time.monotonic() + START_TIMEOUT
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        while True:
            try:
                if client.ping():
                    client.close()
                    return
            except redis.exceptions.RedisError:
                pass
            if self.process is not None and self.process.poll() is not None:
                log = (self.directory / "server.log").read_text(errors="replace")
                raise RuntimeError(f"redis-server exited with {self.process.returncode}:\n{log}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server on port {self.port} did not answer PING")
            time.sleep(0.02)  # a poll interval while the server starts

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def restart(self) -> None:
        """Stop the server and start it again on the same port (its AOF reloaded)."""
        self.stop()
        self.start()


def _needs_redis() -> None:
    if shutil.which("redis-server") is None:
        pytest.skip(INSTALL_SERVER)
    try:
        import redis  # noqa: F401
    except ImportError:
        pytest.skip(INSTALL_DRIVER)


def _running(aof: bool) -> Iterator[RedisServer]:
    _needs_redis()
    with tempfile.TemporaryDirectory(prefix="pbdd-redis-") as directory:
        server = RedisServer(Path(directory), free_port(), aof=aof)
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    """A Redis server without persistence, shared by the tests of one module."""
    yield from _running(aof=False)


@pytest.fixture
def redis_aof_server() -> Iterator[RedisServer]:
    """A Redis server of its own that keeps its data across ``restart()`` (AOF)."""
    yield from _running(aof=True)
