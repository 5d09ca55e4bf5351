"""``--queue`` and its companions on the run command, and the ``QueueOptions`` they make.

Used by ``cli.py``: ``with_queue_options`` declares the options, ``queue_options`` turns
their values into a ``QueueOptions`` (or ``None`` for a run on this machine only).
``pbdd report`` declares its own ``--queue``/``--build`` (``report_command.py``): there
the queue is required and the help says what the report reads. Imports ``config`` and
``build_ids``; never Redis, so that the command line starts fast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from .config import QueueOptions
from .errors import UsageError

Decorated = TypeVar("Decorated", bound=Callable[..., Any])

_OPTIONS = (
    click.option(
        "--queue",
        "queue_url",
        envvar="PBDD_QUEUE_URL",
        metavar="URL",
        default=None,
        help="Share the suite with other machines through this Redis, e.g. redis://host:6379/0.",
    ),
    click.option(
        "--build",
        envvar="PBDD_BUILD_ID",
        default=None,
        help="With --queue: the build every machine joins (default: the CI run's id).",
    ),
    click.option(
        "--worker",
        "worker_name",
        envvar="PBDD_WORKER_ID",
        default=None,
        help="With --queue: this machine's name (default: the CI node index, or host-pid).",
    ),
    click.option(
        "--heartbeat-timeout",
        type=click.FloatRange(min=1),
        default=QueueOptions.heartbeat_timeout,
        show_default=True,
        help="With --queue: seconds without a heartbeat before other machines take a lost "
        "machine's scenarios.",
    ),
    click.option(
        "--queue-init-timeout",
        type=click.FloatRange(min=0),
        default=QueueOptions.init_timeout,
        show_default=True,
        help="With --queue: seconds to wait for the machine that fills the queue.",
    ),
    click.option(
        "--queue-timeout",
        type=click.FloatRange(min=0),
        default=QueueOptions.queue_timeout,
        show_default=True,
        help="With --queue: seconds to keep retrying a Redis that went away.",
    ),
    click.option(
        "--redis-ttl",
        type=click.IntRange(min=60),
        default=QueueOptions.ttl,
        show_default=True,
        help="With --queue: seconds the build's keys live.",
    ),
)


def with_queue_options(command: Decorated) -> Decorated:
    """The ``--queue`` options, in this order in ``--help``, on ``command``."""
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


def queue_options(params: dict[str, Any]) -> QueueOptions | None:
    """``--queue``'s options; ``UsageError`` for what cannot go with it."""
    if not params["queue_url"]:
        return None
    if params["shard"] is not None:
        raise UsageError(
            f"--queue and --shard {params['shard'][0]}/{params['shard'][1]} both split the "
            "suite between machines: use one",
            hint="--queue balances as the machines go; --shard splits once, ahead of time.",
        )
    if params["pdb"]:
        raise UsageError("--pdb cannot go with --queue: a queue run uses worker processes")
    from .build_ids import build_id, worker_name

    return QueueOptions(
        url=params["queue_url"],
        build=build_id(params["build"]),
        worker=worker_name(params["worker_name"]),
        heartbeat_timeout=params["heartbeat_timeout"],
        init_timeout=params["queue_init_timeout"],
        queue_timeout=params["queue_timeout"],
        ttl=params["redis_ttl"],
    )
