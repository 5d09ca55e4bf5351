"""One live server per process that runs scenarios: the worker's, or the serial run's.

Started by ``prelude.py``'s ``before.batch`` hook and stopped by its ``after.batch`` hook;
``harvest`` calls ``port_in_use`` in the parent before anything starts. Imports nothing from
cli or reporting.

Lettuce served the project from a child process on 0.0.0.0; pbdd serves it from a thread of
the worker (Django's own ``LiveServerThread``, the server of ``LiveServerTestCase``), bound
to 127.0.0.1, so a request sees the worker's database settings and the mail it sends lands
in that worker's ``mail.queue``. Static files are served as lettuce did: through
``StaticFilesHandler`` when ``django.contrib.staticfiles`` is installed.
"""

from __future__ import annotations

import socket
from typing import Any, Protocol

from django.apps import apps
from django.utils.module_loading import import_string

from ..errors import PbddError
from .urls import HOST, django_url

# LETTUCE_TEST_SERVER values that mean lettuce's own servers: pbdd's server replaces both
LETTUCE_SERVERS = ("lettuce.django.server.DefaultServer", "lettuce.django.server.DjangoServer")


class ServerError(PbddError):
    """The worker's server could not start (its port is taken, mostly)."""


class Server(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...


def port_in_use(port: int) -> bool:
    """True when something already listens on (or holds) 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # as the server binds: a port whose last connections linger in TIME_WAIT is free
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return True
    return False


def _static_handler() -> Any:
    if apps.is_installed("django.contrib.staticfiles"):
        from django.contrib.staticfiles.handlers import StaticFilesHandler

        return StaticFilesHandler
    from django.test.testcases import _StaticFilesHandler

    return _StaticFilesHandler


def _server_thread(port: int) -> Any:
    from django.test.testcases import LiveServerThread, QuietWSGIRequestHandler

    class ReusingLiveServerThread(LiveServerThread):
        """Django's thread with SO_REUSEADDR: Linux then still refuses a port another
        server listens on, but accepts one whose previous run's connections linger in
        TIME_WAIT (a harvest run right after another one)."""

        def _create_server(self, connections_override: Any = None) -> Any:
            return self.server_class(
                (self.host, self.port),
                QuietWSGIRequestHandler,
                allow_reuse_address=True,
                connections_override=connections_override,
            )

    return ReusingLiveServerThread(HOST, _static_handler(), port=port)


class LiveServer:
    """Django's ``LiveServerThread`` on 127.0.0.1:port, up until ``stop``."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._thread: Any = None

    def start(self) -> None:
        thread = _server_thread(self.port)
        thread.daemon = True
        thread.start()
        thread.is_ready.wait()  # set once the socket is bound, or when binding failed
        if thread.error is not None:
            thread.join()
            raise ServerError(
                f"could not serve the project on {HOST}:{self.port}: {thread.error}",
                hint="Stop what listens there, choose another port with -P, or run with -S.",
            )
        self._thread = thread

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.terminate()  # shuts the server down, closes its socket and connections

    @property
    def url(self) -> str:
        return django_url()


def make_server(port: int, server_class: str) -> Server:
    """pbdd's live server, or the class LETTUCE_TEST_SERVER names (made with
    ``address`` and ``port``, with ``start()`` and ``stop()`` as lettuce's servers had)."""
    if not server_class or server_class in LETTUCE_SERVERS:
        return LiveServer(port)
    try:
        server_type = import_string(server_class)
    except ImportError as error:
        raise ServerError(f"LETTUCE_TEST_SERVER = {server_class!r}: {error}") from None
    return server_type(address=HOST, port=port)
