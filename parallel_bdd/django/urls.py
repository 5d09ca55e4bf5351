"""``django_url(path)``: the URL of the server of the process a step runs in.

Called by users' step files (often at import time, as lettuce allowed) and by ``server.py``.
Imports nothing from Django, cli or reporting.

The port is ``world.port_number`` once pbdd has set it. While a worker imports the suite it
has not been set yet, so the port is worked out the way pbdd gives it: the pool names each
worker process ``pbdd-worker-<i>`` and worker *i* serves on ``base port + 1 + i``; the
serial run serves on the base port itself (``harvest -P``, 8000 by default).
"""

from __future__ import annotations

import multiprocessing
import re
from urllib.parse import urljoin

from ..world import world
from .harvest_config import HarvestConfig

HOST = "127.0.0.1"
_WORKER_NAME = re.compile(r"pbdd-worker-(\d+)$")


def server_port() -> int:
    """The port this process's server listens on (or would, with ``-S``)."""
    port = getattr(world, "port_number", None)
    if isinstance(port, int):
        return port
    base = HarvestConfig.from_environment().port
    match = _WORKER_NAME.match(multiprocessing.current_process().name)
    return base + 1 + int(match.group(1)) if match else base


def django_url(path: str = "") -> str:
    """``django_url('/items/')`` → ``http://127.0.0.1:8001/items/`` on worker 0."""
    return urljoin(f"http://{HOST}:{server_port()}/", path)
