"""Starting Chromium on this machine: where it is, its flags, and every process it leaves.

Called by ``selenium.py`` (``start_chromium`` and ``Browser.quit``) and by ``_remote.py``
(the same flags for a remote Chromium). Imports selenium only inside its functions and
nothing from the runner.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import PbddError

if TYPE_CHECKING:
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.remote.webdriver import WebDriver

DEFAULT_CHROMIUM = "/usr/bin/chromium"
DEFAULT_CHROMEDRIVER = "/usr/bin/chromedriver"
INSTALL_HINT = "install them with: apt-get install -y chromium chromium-driver"

# Flags for a quiet, self-contained headless browser: no sandbox (containers, CI), no
# shared-memory limits (/dev/shm is tiny in Docker), and nothing that phones home.
CHROMIUM_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


# Chromium's profile lock is a Unix socket in a directory it makes under $TMPDIR, like
# $TMPDIR/.org.chromium.Chromium.XXXXXX/SingletonSocket; a socket's path may not exceed
# 107 bytes (sun_path holds 108 with the final NUL).
SOCKET_PATH_LIMIT = 107
SOCKET_UNDER_TMPDIR = len(b"/.org.chromium.Chromium.XXXXXX/SingletonSocket")
SHORT_TEMP_DIRS = ("/tmp", "/var/tmp", "/dev/shm")


class BrowserNotInstalled(PbddError):
    """Chromium or chromedriver is not where we look for it."""


def find_executables(
    chromium: str | None = None, chromedriver: str | None = None
) -> tuple[str, str]:
    """The Chromium and chromedriver paths to use; one clear error if either is missing."""
    chromium = chromium or os.environ.get("PBDD_CHROMIUM") or DEFAULT_CHROMIUM
    chromedriver = chromedriver or os.environ.get("PBDD_CHROMEDRIVER") or DEFAULT_CHROMEDRIVER
    missing = [
        f"{what} not found at {path} (set {variable} to its path)"
        for what, path, variable in (
            ("Chromium", chromium, "PBDD_CHROMIUM"),
            ("chromedriver", chromedriver, "PBDD_CHROMEDRIVER"),
        )
        if not (os.path.isfile(path) and os.access(path, os.X_OK))
    ]
    if missing:
        # The hint goes in the message itself: hook failures are reported as str(error).
        raise BrowserNotInstalled(f"{'; '.join(missing)}; {INSTALL_HINT}")
    return chromium, chromedriver


def import_selenium() -> Any:
    try:
        import selenium.webdriver
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise PbddError(
            "parallel_bdd.contrib.selenium needs selenium 4", hint="pip install 'selenium>=4'"
        ) from error
    return selenium.webdriver


def chromium_options(
    binary: str | None,
    *,
    headless: bool,
    window_size: tuple[int, int],
    extra_args: Iterable[str],
) -> Options:
    """``goog:chromeOptions`` for a local or a remote Chromium: ``CHROMIUM_ARGS`` (without
    ``--headless=new`` unless ``headless``), the window size, then ``extra_args``."""
    options = import_selenium().ChromeOptions()
    if binary:
        options.binary_location = binary
    for argument in CHROMIUM_ARGS:
        if argument == "--headless=new" and not headless:
            continue
        options.add_argument(argument)
    options.add_argument(f"--window-size={window_size[0]},{window_size[1]}")
    for argument in extra_args:
        options.add_argument(argument)
    return options


def start_local_chromium(
    *,
    headless: bool,
    window_size: tuple[int, int],
    extra_args: Iterable[str],
    chromium_path: str | None,
    chromedriver_path: str | None,
) -> tuple[WebDriver, str]:
    """Chromium started here through chromedriver; returns the driver and its profile
    directory (a fresh one, for ``Browser.quit`` to remove)."""
    chromium, chromedriver = find_executables(chromium_path, chromedriver_path)
    webdriver = import_selenium()
    from selenium.webdriver.chrome.service import Service

    profile, chromium_tmpdir = new_profile()
    options = chromium_options(
        chromium,
        headless=headless,
        window_size=window_size,
        extra_args=(f"--user-data-dir={profile}", *extra_args),
    )
    # Chromium's crash handler detaches from the browser's process tree and keeps its
    # database under $XDG_CONFIG_HOME; pointing that into the profile keeps workers apart and
    # lets quit() find the handler by the profile path in its command line.
    environment = dict(
        os.environ,
        XDG_CONFIG_HOME=os.path.join(profile, "config"),
        XDG_CACHE_HOME=os.path.join(profile, "cache"),
    )
    if chromium_tmpdir:
        environment["TMPDIR"] = chromium_tmpdir
    service = Service(executable_path=chromedriver, env=environment)
    try:
        driver = webdriver.Chrome(service=service, options=options)
    except BaseException:
        with contextlib.suppress(Exception):
            service.stop()
        end_processes(owned_processes(service, profile))
        shutil.rmtree(profile, ignore_errors=True)
        raise
    return driver, profile


def new_profile() -> tuple[str, str | None]:
    """A fresh profile directory, and the $TMPDIR to start Chromium with (None: the user's).

    Under a $TMPDIR too deep for Chromium's lock socket (``SOCKET_PATH_LIMIT``: pytest's
    temporary directories, some CI runners) Chromium exits at once with "session not
    created: Chrome instance exited". Then the profile is made in a short directory and
    Chromium gets a $TMPDIR inside it, so removing the profile removes the socket too.
    """
    user_tmpdir = os.environ.get("TMPDIR") or "/tmp"
    fits = len(os.fsencode(user_tmpdir)) + SOCKET_UNDER_TMPDIR <= SOCKET_PATH_LIMIT
    short = next((d for d in SHORT_TEMP_DIRS if os.access(d, os.W_OK | os.X_OK)), None)
    if fits or short is None:
        return tempfile.mkdtemp(prefix="pbdd-chromium-"), None
    profile = tempfile.mkdtemp(prefix="pbdd-chromium-", dir=short)
    chromium_tmpdir = os.path.join(profile, "tmp")
    os.mkdir(chromium_tmpdir)
    return profile, chromium_tmpdir


# -- processes ------------------------------------------------------------------------------
# chromedriver's children (the browser, its zygotes, renderers) are found through the
# process tree; the crash handler is re-parented to init, so it is found by the profile path
# in its command line. psutil is used when installed, /proc otherwise.


class _ProcessInfo(NamedTuple):
    parent: int
    command: str
    zombie: bool
    started: float  # with the pid, identifies the process: pids get reused


def _process_table() -> dict[int, _ProcessInfo]:
    """Every process we can see, by pid."""
    table: dict[int, _ProcessInfo] = {}
    try:
        import psutil
    except ImportError:
        psutil = None  # type: ignore[assignment]
    if psutil is not None:
        for process in psutil.process_iter(["pid", "ppid", "cmdline", "status", "create_time"]):
            info = process.info
            table[info["pid"]] = _ProcessInfo(
                info["ppid"] or 0,
                " ".join(info["cmdline"] or ()),
                info["status"] == psutil.STATUS_ZOMBIE,
                info["create_time"] or 0.0,
            )
        return table
    proc = Path("/proc")
    for entry in proc.iterdir() if proc.is_dir() else ():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        # The command name (field 2) may hold spaces and parentheses: split after the last ")".
        fields = stat[stat.rfind(")") + 2 :].split()
        table[int(entry.name)] = _ProcessInfo(
            int(fields[1]), command.strip(), fields[0] == "Z", float(fields[19])
        )
    return table


def owned_processes(service: Any, profile_dir: str | None) -> dict[int, float]:
    """The chromedriver process, its descendants, and processes using the profile.

    Returned as pid → start time, so a pid reused by an unrelated process is never killed.
    """
    root = getattr(getattr(service, "process", None), "pid", None)
    table = _process_table()
    owned: set[int] = set()
    if root is not None and root in table:
        owned.add(root)
        children: dict[int, list[int]] = {}
        for pid, info in table.items():
            children.setdefault(info.parent, []).append(pid)
        pending = [root]
        while pending:
            for child in children.get(pending.pop(), ()):
                if child not in owned:
                    owned.add(child)
                    pending.append(child)
    if profile_dir:
        owned.update(pid for pid, info in table.items() if profile_dir in info.command)
    owned.discard(os.getpid())
    return {pid: table[pid].started for pid in owned}


def _alive(processes: dict[int, float]) -> dict[int, float]:
    table = _process_table()
    return {
        pid: started
        for pid, started in processes.items()
        if pid in table and table[pid].started == started and not table[pid].zombie
    }


def end_processes(processes: dict[int, float], grace: float = 5.0) -> None:
    """Wait up to ``grace`` seconds for the processes to exit, then kill what is left."""
    deadline = time.monotonic() + grace
    remaining = _alive(processes)
    while remaining and time.monotonic() < deadline:
        time.sleep(0.1)
        remaining = _alive(remaining)
    for pid in remaining:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 2.0
    while remaining and time.monotonic() < deadline:
        time.sleep(0.05)
        remaining = _alive(remaining)
