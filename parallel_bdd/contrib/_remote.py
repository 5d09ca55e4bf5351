"""Chromium on a W3C WebDriver remote end: a Selenium Grid, or ``chromedriver --port=N``.

Called by ``selenium.start_chromium`` when ``PBDD_WEBDRIVER_URL`` (or its ``remote_url``
argument) names a remote end. Imports selenium only inside its functions, and nothing from
the runner but ``world`` (for the worker id the session is named after).

The remote end is asked for its ``/status`` first, with ``connect_timeout``: an address that
refuses, does not answer or is not a WebDriver server is one error naming the URL (password
masked), instead of selenium's retries and a traceback.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import multiprocessing
import os
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit

from ..errors import PbddError
from ..masking import mask_secrets
from ..world import world
from ._chromium import chromium_options, import_selenium

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

REMOTE_URL_VARIABLE = "PBDD_WEBDRIVER_URL"
BROWSER_HOST_VARIABLE = "PBDD_BROWSER_HOST"
REMOTE_CHROMIUM_VARIABLE = "PBDD_REMOTE_CHROMIUM"
RUN_NAME_VARIABLE = "PBDD_RUN_NAME"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0"})
STATUS_BYTES = 1 << 16  # a remote end's /status is a small JSON document


class RemoteBrowserError(PbddError):
    """The WebDriver remote end cannot be reached, or it did not start a session."""


@dataclass(frozen=True)
class RemoteEnd:
    """Where the remote end is: ``url`` without credentials (they go in a header)."""

    url: str
    username: str | None
    password: str | None
    shown: str  # the URL as given, password masked: for messages

    @classmethod
    def parse(cls, text: str) -> RemoteEnd:
        shown = mask_secrets(text.strip())
        try:
            parts = urlsplit(text.strip())
            port = parts.port
        except ValueError:
            parts, port = SplitResult("", "", "", "", ""), None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise RemoteBrowserError(
                f"the WebDriver URL must look like http://grid:4444 or http://127.0.0.1:9515,"
                f" not {shown!r} (from {REMOTE_URL_VARIABLE} or remote_url)"
            )
        netloc = _host_for_url(parts.hostname) + (f":{port}" if port else "")
        url = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), parts.query, ""))
        username = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        return cls(url, username, password, shown)

    def auth_headers(self) -> dict[str, str]:
        if not (self.username and self.password):
            return {}
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}


def remote_url_from(argument: str | None) -> str:
    """The remote end to use: ``argument`` when given ("" forces a local browser), else
    ``$PBDD_WEBDRIVER_URL``; "" for a local browser."""
    text = os.environ.get(REMOTE_URL_VARIABLE, "") if argument is None else argument
    return text.strip()


def check_reachable(end: RemoteEnd, connect_timeout: float) -> None:
    """``GET /status`` on the remote end, answered within ``connect_timeout`` seconds."""
    import urllib.error  # here: urllib.request costs a worker's startup 15 ms
    import urllib.request

    request = urllib.request.Request(f"{end.url}/status", headers=end.auth_headers())
    try:
        with urllib.request.urlopen(request, timeout=connect_timeout) as response:
            response.read(STATUS_BYTES)
        return
    except urllib.error.HTTPError as error:
        if error.code in (401, 403):
            reason = f"it refused the credentials (HTTP {error.code})"
        else:
            reason = f"GET /status answered HTTP {error.code}; is it a WebDriver server?"
    except (urllib.error.URLError, OSError) as error:
        reason = _network_reason(error, connect_timeout)
    raise RemoteBrowserError(f"cannot reach the WebDriver remote end at {end.shown}: {reason}")


def _network_reason(error: OSError, connect_timeout: float) -> str:
    cause = getattr(error, "reason", error)  # a URLError wraps the socket's error
    if isinstance(cause, ConnectionRefusedError):
        return "connection refused"
    if isinstance(cause, TimeoutError | socket.timeout):
        return f"no answer within {connect_timeout:g}s"
    if isinstance(cause, socket.gaierror):
        return "unknown host"
    return str(getattr(cause, "strerror", None) or cause)


def start_remote_chromium(
    remote_url: str,
    *,
    headless: bool,
    window_size: tuple[int, int],
    extra_args: Iterable[str],
    chromium_path: str | None,
    session_name: str | None,
    connect_timeout: float,
) -> WebDriver:
    """A new session on the remote end, named ``session_name`` (default: this worker's)."""
    end = RemoteEnd.parse(remote_url)
    check_reachable(end, connect_timeout)
    webdriver = import_selenium()
    import urllib3
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.remote.client_config import ClientConfig

    binary = chromium_path or os.environ.get(REMOTE_CHROMIUM_VARIABLE) or None
    options = chromium_options(
        binary, headless=headless, window_size=window_size, extra_args=extra_args
    )
    # A Selenium Grid shows se:name in its sessions list; other remote ends ignore it.
    options.set_capability("se:name", session_name or default_session_name())
    config = ClientConfig(
        remote_server_addr=end.url,
        username=end.username,
        password=end.password,
        # urllib3 takes a Timeout wherever selenium passes this value: the connection is
        # bounded, the answer is not (a Grid may queue a new session for minutes).
        timeout=urllib3.Timeout(connect=connect_timeout, read=None),  # type: ignore[arg-type]
    )
    try:
        return webdriver.Remote(command_executor=end.url, options=options, client_config=config)
    except (WebDriverException, urllib3.exceptions.HTTPError, OSError) as error:
        raise RemoteBrowserError(
            f"the WebDriver remote end at {end.shown} did not start a session: {_one_line(error)}"
        ) from error


def _one_line(error: Exception) -> str:
    """Selenium's message on one line, without its link to the troubleshooting pages."""
    text = getattr(error, "msg", None) or str(error) or type(error).__name__
    text = text.split("; For documentation on this error")[0]
    return ": ".join(line.strip() for line in text.splitlines() if line.strip())


def default_session_name() -> str:
    """``pbdd worker 1 - shop (pid 4242 on ci-7)``: the worker, then the run, which
    ``$PBDD_RUN_NAME`` names instead when set (a CI build, say)."""
    worker_id = getattr(world, "worker_id", None)
    who = "pbdd" if worker_id is None else f"pbdd worker {worker_id}"
    run = os.environ.get(RUN_NAME_VARIABLE)
    if not run:
        # the pid of pbdd's main process, whichever start method made this worker
        parent = multiprocessing.parent_process()
        pid = parent.pid if parent is not None else os.getpid()
        run = f"{Path.cwd().name} (pid {pid} on {socket.gethostname()})"
    return f"{who} - {run}"


def reachable_base_url(base_url: str, browser_host: str | None) -> str:
    """``base_url`` with a loopback host (127.0.0.1, localhost) replaced by
    ``browser_host``: the name by which the remote browser reaches this machine."""
    host = browser_host if browser_host is not None else os.environ.get(BROWSER_HOST_VARIABLE)
    if not base_url or not host:
        return base_url
    parts = urlsplit(base_url)
    if parts.hostname not in LOOPBACK_HOSTS:
        return base_url
    credentials = parts.netloc.rpartition("@")[0]
    netloc = _host_for_url(host.strip()) + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=f"{credentials}@{netloc}" if credentials else netloc))


def _host_for_url(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def quit_when_process_ends(quit: Callable[[], None]) -> None:
    """Call ``quit`` when this process ends, if nothing has by then.

    A remote session outlives the worker that forgot it, holding a Grid slot until the
    Grid's session timeout. ``atexit`` covers a serial run and spawned workers; workers
    that ``fork`` or ``forkserver`` started end with ``os._exit`` after multiprocessing's
    own exit function, which runs the ``Finalize`` callbacks. A process forked from this
    one inherits both and must not end a session that is not its own. A worker killed
    with SIGKILL runs neither: its session is left to the remote end's timeout.
    """
    owner = os.getpid()

    def quit_in_owner() -> None:
        if os.getpid() == owner:
            with contextlib.suppress(Exception):
                quit()

    atexit.register(quit_in_owner)
    if multiprocessing.parent_process() is not None:
        from multiprocessing import util

        util.Finalize(None, quit_in_owner, exitpriority=10)
