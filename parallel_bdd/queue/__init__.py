"""One suite across many machines: a build's shared queue in Redis, and its report.

``RedisQueue`` (``redis_queue.py``) is a machine's handle on the queue: fill or join, then
reserve / heartbeat / ack / requeue, and release on Ctrl-C. ``report.py`` is the read-only
end of a build (``pbdd report``). ``keys.py`` names a build's keys, ``scripts.py`` holds the
Lua scripts, ``records.py`` the JSON of what is stored, ``connection.py`` reaching the
server. redis-py is imported by these modules only: a run without ``--queue`` never
imports this package. No module here imports a process, pool or worker module.
"""

from __future__ import annotations

from .redis_queue import Joined, RedisQueue, Reservation

__all__ = ["Joined", "RedisQueue", "Reservation"]
