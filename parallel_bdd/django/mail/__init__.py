"""``lettuce.django.mail``: ``mail.queue`` holds every message the project sent.

Filled by ``backends.QueueEmailBackend`` (the ``EMAIL_BACKEND`` that ``prelude.py`` sets in
every process of a harvest run); read by users' steps (``mail.queue.get_nowait()``,
``mail.queue.get(timeout=5)``) and by ``steps.mail``. Lettuce's server was another process,
so its queue was a ``multiprocessing.Queue``; pbdd's server is a thread of the worker that
runs the steps, so a thread-safe ``queue.Queue`` of that process is enough, and a worker
never sees another worker's mail. ``prelude.py`` empties it before each scenario.
"""

from __future__ import annotations

import queue as _queue
from typing import Any

queue: _queue.Queue[Any] = _queue.Queue()


def empty_queue() -> None:
    """Drop what earlier scenarios sent (called before each scenario)."""
    while True:
        try:
            queue.get_nowait()
        except _queue.Empty:
            return
