"""The defaults of a ``--queue`` run: one place for ``config.QueueOptions``, the command
line's ``--help`` and ``RedisQueue``.

Imports nothing: ``config`` reads it on every run, with or without ``--queue``, and must
not pull redis-py in.
"""

HEARTBEAT_TIMEOUT = 30.0  # seconds without a heartbeat before other machines take over
INIT_TIMEOUT = 300.0  # seconds to wait for the machine that fills the queue
QUEUE_TIMEOUT = 60.0  # seconds a lost server is asked again before giving up
TTL = 8 * 60 * 60  # every key's time to live, in seconds: a day of CI runs' builds, not a week's
