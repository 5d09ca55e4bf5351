"""The pool's SyncManager: its queues (one event queue, one work queue per worker), and
how it is started.

Called by ``pool/`` in the parent. A spawned manager process imports this module for
``WorkQueue``, so it imports only the standard library, ``lifeline`` and
``process_start``.
"""

from __future__ import annotations

import os
import queue
from collections.abc import Sequence
from multiprocessing.managers import MakeProxyType, SyncManager
from typing import Any

from .lifeline import manager_initializer
from .process_start import sigint_blocked


class WorkQueue(queue.Queue):  # type: ignore[type-arg]
    """The manager's work queue, which also takes many entries in one call.

    Each call on a manager proxy is a round trip to the manager process: filling the queue
    one entry at a time would make the parent, the manager and the workers take turns on
    the CPUs for every entry."""

    def put_many(self, entries: Sequence[Any]) -> None:
        for entry in entries:
            self.put(entry)


_QueueMethods: Any = MakeProxyType(
    "_QueueMethods", ("get", "get_nowait", "put", "put_many", "qsize")
)


class QueueProxy(_QueueMethods):  # type: ignore[misc]
    """A pool queue's proxy (a class of this module, so that it pickles by name)."""


class PoolManager(SyncManager):
    """The SyncManager of a pool: its queues are ``WorkQueue``s (``manager.WorkQueue()``)."""


PoolManager.register("WorkQueue", WorkQueue, proxytype=QueueProxy)


def launch_manager(manager: PoolManager) -> None:
    """Start a pool's ``manager``: it ignores Ctrl-C and dies with this process.

    SIGINT stays blocked while it starts, until its initializer ignores it."""
    with sigint_blocked():
        manager.start(manager_initializer, (os.getpid(),))
