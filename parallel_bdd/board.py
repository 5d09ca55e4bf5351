"""Shared memory the pool reads without a message: which scenario each worker runs now.

Made by ``pool/`` before the first worker starts, handed to every worker, which writes it
(``worker.py``), and read by the pool. Imports nothing from the package at run time.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .messages import WorkItem


class Board:
    """Which scenario each slot runs now, and since when.

    ``running[slot]`` is the running scenario's ``WorkItem.order`` (-1: none) and
    ``since[slot]`` when it started (``time.monotonic()``, one clock for all processes on
    Linux). A crash or a timeout is thus pinned on the right scenario even when a chunk's
    results have not been sent yet.
    """

    def __init__(self, running: Any, since: Any) -> None:
        self.running = running
        self.since = since

    @classmethod
    def for_slots(cls, context: Any, slots: int) -> Board:
        """An empty board for ``slots`` workers, in memory the start method shares."""
        return cls(context.RawArray("l", [-1] * slots), context.RawArray("d", slots))

    def enter(self, worker_id: int, item: WorkItem) -> None:
        self.since[worker_id] = time.monotonic()
        self.running[worker_id] = item.order

    def leave(self, worker_id: int) -> None:
        self.running[worker_id] = -1
