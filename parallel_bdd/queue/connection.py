"""Reaching the Redis server: a client, the first contact, retries, the eviction warning.

Used by ``redis_queue.RedisQueue`` and ``report.py``. A server that cannot be reached at the
first contact is a ``QueueError`` at once (a wrong URL should not look like a slow start);
one that goes away later is asked again with a growing pause, up to ``queue_timeout``
seconds, before the ``QueueError``. Every message names the URL with its password masked.

Imports redis-py, ``errors`` and ``masking``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from ..errors import QueueError
from ..masking import mask_secrets

FIRST_PAUSE = 0.05
LONGEST_PAUSE = 2.0
# Every key of a build has a TTL, so the volatile-* policies may evict them as well as the
# allkeys-* ones: only noeviction keeps them (or no memory limit at all).
SAFE_POLICY = "noeviction"

_Value = TypeVar("_Value")
_LOST = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def connect(url: str, *, socket_timeout: float = 10.0) -> redis.Redis:
    """A client for ``url`` (``redis://``, ``rediss://``, ``unix://``); nothing is sent yet.

    redis-py's own retries are off: ``retrying`` asks again, within ``--queue-timeout``.
    """
    try:
        return redis.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_timeout,
            retry=Retry(NoBackoff(), 0),
        )
    except ValueError as error:
        raise QueueError(f"{shown(url)} is not a Redis URL: {error}") from None


def shown(url: str) -> str:
    """The URL as messages name it: its password masked."""
    return mask_secrets(url)


def first_contact(client: redis.Redis, url: str) -> None:
    """``PING`` once: ``QueueError`` naming the URL when the server cannot be reached."""
    try:
        client.ping()
    except redis.exceptions.RedisError as error:
        raise QueueError(
            f"cannot reach Redis at {shown(url)}: {mask_secrets(str(error))}",
            hint="Check the --queue URL, the server and the network between them.",
        ) from None


def eviction_warning(client: redis.Redis) -> str:
    """A warning when the server may evict a build's keys to make room (a memory limit and
    a ``maxmemory-policy`` other than ``noeviction``), "" when it may not or does not let us
    ask (managed servers often refuse ``CONFIG``)."""
    try:
        config = client.config_get("maxmemory*")
    except redis.exceptions.ResponseError:
        return ""
    policy = str(config.get("maxmemory-policy", ""))
    if not policy or policy == SAFE_POLICY or str(config.get("maxmemory", "0")) == "0":
        return ""
    return (
        f"Warning: Redis evicts keys under memory pressure (maxmemory-policy {policy}): "
        "a build could lose its queue or results; use noeviction or a volatile-* policy"
    )


def retrying(call: Callable[[], _Value], url: str, queue_timeout: float) -> _Value:
    """``call()``, asked again with a growing pause while the server cannot be reached,
    for up to ``queue_timeout`` seconds; then ``QueueError``. Any other Redis error is a
    ``QueueError`` at once."""
    deadline = time.monotonic() + queue_timeout
    pause = FIRST_PAUSE
    while True:
        try:
            return call()
        except _LOST as error:
            left = deadline - time.monotonic()
            if left <= 0:
                raise QueueError(
                    f"lost Redis at {shown(url)} for more than {queue_timeout:g} s: "
                    f"{mask_secrets(str(error))}"
                ) from None
            # a pause before asking again (a restarting server), not a synchronisation
            time.sleep(min(pause, left))
            pause = min(pause * 2, LONGEST_PAUSE)
        except redis.exceptions.RedisError as error:
            raise QueueError(
                f"Redis at {shown(url)} refused a queue command: {mask_secrets(str(error))}"
            ) from None
