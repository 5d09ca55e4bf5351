"""chromedriver as a W3C WebDriver remote end (``chromedriver --port=N``), for tests.

Test modules that need one import the fixture::

    from chromedriver_server import Chromedriver, chromedriver_fixture  # noqa: F401

    def test_something(chromedriver: Chromedriver):
        start_chromium(remote_url=chromedriver.url)

Each test gets its own chromedriver on a free 127.0.0.1 port, logging every command to a
file in the test's temporary directory; it is stopped when the test ends, also after a
failure. Ready means its ``/status`` says so (polled with a deadline). What a session asked
for and when it was ended are read back from that log and from ``/sessions``. Skipped when
Chromium or chromedriver is missing.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from suite_helpers import free_port

from parallel_bdd.contrib.selenium import BrowserNotInstalled, find_executables

READY_DEADLINE = 30.0  # seconds for chromedriver to answer /status on a loaded machine

try:
    CHROMEDRIVER = find_executables()[1]
    HAVE_CHROMIUM = True
except BrowserNotInstalled:
    CHROMEDRIVER = ""
    HAVE_CHROMIUM = False


@dataclass
class Chromedriver:
    """A chromedriver listening on ``port``, logging every command to ``log``."""

    port: int
    log: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str) -> dict:
        with urllib.request.urlopen(f"{self.url}{path}", timeout=10) as response:
            return json.load(response)

    def open_sessions(self) -> list[str]:
        return [session["id"] for session in self.get("/sessions")["value"]]

    def new_sessions(self) -> dict[str, dict]:
        """Session id → the alwaysMatch capabilities it was asked for, from the log."""
        text = self.log.read_text(errors="replace")
        found = {}
        for match in re.finditer(
            r"\[([0-9a-f]{32})\] COMMAND InitSession (\{.*?\n\})\n", text, re.S
        ):
            found[match.group(1)] = json.loads(match.group(2))["capabilities"]["alwaysMatch"]
        return found

    def quit_sessions(self) -> set[str]:
        text = self.log.read_text(errors="replace")
        return set(re.findall(r"\[([0-9a-f]{32})\] RESPONSE Quit\b", text))


def wait_ready(driver: Chromedriver) -> None:
    """Poll chromedriver's /status until it says ready; its log if it exits instead."""
    deadline = time.monotonic() + READY_DEADLINE
    while True:
        try:
            if driver.get("/status")["value"]["ready"]:
                return
        except OSError:
            pass
        if driver.process.poll() is not None:
            log = driver.log.read_text(errors="replace") if driver.log.exists() else ""
            raise RuntimeError(f"chromedriver exited with {driver.process.returncode}: {log}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"chromedriver on port {driver.port} not ready in time")
        time.sleep(0.05)


def end_open_sessions(driver: Chromedriver) -> None:
    """Quit what a failing test left open: chromedriver stopped with a session open leaves
    its browser running, re-parented to init."""
    if driver.process.poll() is not None:
        return
    try:
        sessions = driver.open_sessions()
    except OSError:
        return
    for session in sessions:
        request = urllib.request.Request(f"{driver.url}/session/{session}", method="DELETE")
        with contextlib.suppress(OSError), urllib.request.urlopen(request, timeout=30):
            pass


@pytest.fixture(name="chromedriver")
def chromedriver_fixture(tmp_path: Path) -> Iterator[Chromedriver]:
    if not HAVE_CHROMIUM:
        pytest.skip("chromium/chromedriver not installed")
    port = free_port()
    log = tmp_path / "chromedriver.log"
    process = subprocess.Popen(
        [CHROMEDRIVER, f"--port={port}", f"--log-path={log}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    driver = Chromedriver(port, log, process)
    try:
        wait_ready(driver)
        yield driver
    finally:
        end_open_sessions(driver)
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
