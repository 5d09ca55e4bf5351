"""Run the store on a port in a background thread: what a test process (``@before.batch``) uses.

    server = StoreServer(port, db_path).start()   # returns once it accepts connections
    ...  server.url, server.database, server.reset()
    server.stop()

werkzeug's threaded server, bound to 127.0.0.1; ``port=0`` picks a free port. Requests are
not logged unless ``log_requests=True``; ``app_options`` go to ``create_app``.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
from typing import Any, Self

from werkzeug.serving import WSGIRequestHandler, make_server

from .app import create_app
from .db import Database


class QuietRequestHandler(WSGIRequestHandler):
    """No access log line per request (errors are still logged)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class StoreServer:
    def __init__(
        self,
        port: int,
        db_path: str | os.PathLike[str],
        *,
        host: str = "127.0.0.1",
        log_requests: bool = False,
        **app_options: Any,
    ) -> None:
        self.host = host
        self.requested_port = port
        self.db_path = os.fspath(db_path)
        self.log_requests = log_requests
        self.app = create_app(self.db_path, **app_options)
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the store server is not running: call start() first")
        return int(self._server.server_port)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def database(self) -> Database:
        return self.app.extensions["store.database"]

    def start(self) -> StoreServer:
        if self._server is not None:
            return self
        # werkzeug reports a port in use on stderr and calls sys.exit(1): in a test process
        # that must be an error to report, not the end of the process.
        said = io.StringIO()
        try:
            with contextlib.redirect_stderr(said):
                self._server = make_server(
                    self.host,
                    self.requested_port,
                    self.app,
                    threaded=True,
                    request_handler=None if self.log_requests else QuietRequestHandler,
                )
        except (OSError, SystemExit) as error:
            reason = " ".join(said.getvalue().split()) or str(error)
            raise RuntimeError(
                f"cannot start the store on {self.host}:{self.requested_port}: {reason}"
            ) from None
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"store-server-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def reset(self) -> None:
        """Empty the database and forget report jobs: a clean store for the next scenario."""
        self.app.extensions["store.reports"].clear()
        self.database.reset()

    def stop(self) -> None:
        if self._server is None:
            return
        self.app.extensions["store.reports"].stop()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
