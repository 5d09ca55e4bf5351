"""The pool's SyncManager: its two queues, and how it is started.

Called by ``warmup.PoolWarmup`` (the early start, once its first workers are on their
way) and by ``pool.py`` (when nothing warmed up). A spawned manager process imports this
module for ``WorkQueue``, so it imports only the standard library and ``lifeline``.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import sys
import threading
from collections.abc import Sequence
from multiprocessing.managers import MakeProxyType, SyncManager
from typing import Any

from .lifeline import manager_initializer


class WorkQueue(queue.Queue):  # type: ignore[type-arg]
    """The manager's work queue, which also takes many entries in one call.

    Each call on a manager proxy is a round trip to the manager process; filling the queue
    one entry at a time made the parent, the manager and the workers take turns on the
    CPUs for every entry (thousands with a big suite)."""

    def put_many(self, entries: Sequence[Any]) -> None:
        for entry in entries:
            self.put(entry)


_QueueMethods: Any = MakeProxyType(
    "_QueueMethods", ("get", "get_nowait", "put", "put_many", "qsize")
)


class QueueProxy(_QueueMethods):  # type: ignore[misc]
    """A pool queue's proxy, which reaches a worker without a reference count of its own.

    A proxy unpickled in another process registers itself with the manager (a connection
    of its own, with its two-way authentication) and unregisters when that process exits
    (another): four of a worker's five connections to the manager, at its start and at
    the end of the run, when the CPUs are busiest. The parent's proxies keep the queues
    alive for the whole run, and the manager ends with the run, so the workers need none.
    """

    def __reduce__(self) -> Any:
        rebuild, (kind, token, serializer, options) = super().__reduce__()
        return rebuild, (kind, token, serializer, {**options, "incref": False})


class PoolManager(SyncManager):
    """The SyncManager of a pool: its two queues, both ``WorkQueue``s."""


PoolManager.register("WorkQueue", WorkQueue, proxytype=QueueProxy)


def new_manager(context: Any) -> tuple[PoolManager, bool]:
    """A warm-up's manager, not started, and whether it will be forked (``launch`` it at
    once, before starting a thread).

    It is forked on Linux while this process runs one thread, whatever the workers' start
    method: it runs multiprocessing's code and pbdd's, never the suite's, and the warm-up
    starts it before the suite is imported, so it inherits nothing of the suite's. Forked,
    it is up in a few milliseconds; spawned, it takes about 0.1 s of CPU to start an
    interpreter and import multiprocessing again, CPU the workers need on a busy machine.
    Forking beside a running thread is unsafe (a lock held by the other thread stays held
    in the child), hence the single-thread condition.
    """
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return PoolManager(ctx=multiprocessing.get_context("fork")), True
    return PoolManager(ctx=context), False


def launch_manager(manager: PoolManager, inherited: Sequence[int] = ()) -> None:
    """Start a pool's ``manager``: it ignores Ctrl-C and dies with this process (with the
    thread that starts it, on Linux). Call it with SIGINT blocked.

    A forked manager closes the ``inherited`` file descriptors first: the parent's ends
    of the pipes to the workers started before it, whose end a worker must see when the
    parent closes them."""
    manager.start(manager_initializer, (os.getpid(), tuple(inherited)))


def new_queues(manager: PoolManager) -> tuple[Any, Any]:
    """The pool's queues in the started ``manager``: (work queue, event queue)."""
    return _new_queue(manager), _new_queue(manager)


def _new_queue(manager: PoolManager) -> QueueProxy:
    """A new ``WorkQueue`` in the started ``manager``, made in one connection to it.

    ``manager.WorkQueue()`` takes three (create it, count the proxy's reference, drop the
    creation's), on the way to the first scenario. Here the creation's reference is the
    one that keeps the queue alive until the manager ends, as for the workers' copies."""
    token, exposed = manager._create("WorkQueue")
    return QueueProxy(token, "pickle", manager=manager, exposed=exposed, incref=False)
