"""One suite across many machines: a build's shared queue in Redis, and its report.

``RedisQueue`` (``redis_queue.py``) is a machine's handle on the queue: fill or join, then
reserve / heartbeat / ack / requeue, and release on Ctrl-C. ``report.py`` is the read-only
end of a build (``pbdd report``). ``keys.py`` names a build's keys, ``scripts.py`` holds the
Lua scripts, ``records.py`` the JSON of what is stored, ``connection.py`` reaching the
server, ``defaults.py`` the defaults of the ``--queue`` options. redis-py is imported by
these modules only, and only when one of them is: ``config`` imports ``defaults`` on every
run, so this package's names below are looked up in ``redis_queue`` on first use, not at
import. No module here imports a process, pool or worker module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .redis_queue import Joined, RedisQueue, Reservation

__all__ = ["Joined", "RedisQueue", "Reservation"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import redis_queue

        return getattr(redis_queue, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
