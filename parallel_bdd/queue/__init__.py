"""One suite across many machines: a build's shared queue in Redis, and its report.

``RedisQueue`` (``redis_queue.py``) is a machine's handle on the queue: fill or join, then
reserve / heartbeat / ack / requeue, and release on Ctrl-C. ``report.py`` is the read-only
end of a build (``pbdd report``). ``keys.py`` names a build's keys, ``scripts.py`` holds the
Lua scripts, ``records.py`` the JSON of what is stored, ``connection.py`` reaching the
server, ``defaults.py`` the defaults of the ``--queue`` options. redis-py is imported by
these modules only, and only when one of them is; this ``__init__`` imports nothing, so
``config`` importing ``defaults`` on every run does not import redis. No module here
imports a process, pool or worker module.
"""
