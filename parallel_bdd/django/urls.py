"""``django_url(path)``: the URL of the server of the process a step runs in.

Called by users' step files (often at import time, as lettuce allowed) and by ``server.py``.
Imports nothing from Django, cli or reporting.

The port is ``world.port_number``: a worker has it before it imports the suite (worker *i*
serves on ``base port + 1 + i``). The parent imports the suite before a serial run sets it,
so until then the port is the base port itself (``harvest -P``, 8000 by default), which is
where the serial run serves.
"""

from __future__ import annotations

from urllib.parse import urljoin

from ..world import world
from .harvest_config import HarvestConfig

HOST = "127.0.0.1"


def server_port() -> int:
    """The port this process's server listens on (or would, with ``-S``)."""
    port = getattr(world, "port_number", None)
    if isinstance(port, int):
        return port
    return HarvestConfig.from_environment().port


def django_url(path: str = "") -> str:
    """``django_url('/items/')`` → ``http://127.0.0.1:8001/items/`` on worker 0."""
    return urljoin(f"http://{HOST}:{server_port()}/", path)
