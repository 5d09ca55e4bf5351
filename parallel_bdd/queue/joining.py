"""A machine joins its build and leaves it: ``join_build`` fills the queue or waits for it,
then gives the ``RedisSource`` the pool takes its work from; ``leave_build`` gives back what
is still held once the pool is done.

Called by ``session.py`` for a ``--queue`` run (``join_run``, with the run's options), after
the selection and its order and before ``before.all``: a machine whose build is already
finished runs nothing, not even its hooks. Imports the ``queue`` package and ``scheduler``;
no process, pool or worker module.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..config import QueueOptions, RunOptions
from ..errors import PbddError
from ..messages import WorkItem
from ..scheduler import queue_entries, serial_tag
from .redis_queue import RedisQueue
from .source import RedisSource


def join_run(
    options: RunOptions,
    items: Sequence[WorkItem],
    processes: int,
    on_notice: Callable[[str], None],
) -> RedisSource | None:
    """``join_build`` for a run whose ``options.queue`` is set; ``None`` when it is finished."""
    assert options.queue is not None
    return join_build(
        options.queue,
        items,
        processes,
        dist=options.dist,
        chunking=not options.max_scenarios_per_worker,
        requeue_crashed=options.requeue_crashed,
        on_notice=on_notice,
    )


def join_build(
    options: QueueOptions,
    items: Sequence[WorkItem],
    slots: int,
    *,
    dist: str,
    chunking: bool,
    requeue_crashed: int,
    on_notice: Callable[[str], None],
) -> RedisSource | None:
    """This machine's source of work in the build, or ``None`` when the build is over.
    ``requeue_crashed``: how many more times than once a lost machine's scenario runs."""
    queue = RedisQueue(
        options.url,
        options.build,
        options.worker,
        heartbeat_timeout=options.heartbeat_timeout,
        ttl=options.ttl,
        queue_timeout=options.queue_timeout,
    )
    try:
        for warning in queue.check():
            on_notice(f"Warning: {warning}")
        joined = queue.fill_or_wait(
            build_entries(items, slots, dist, chunking), options.init_timeout
        )
        if queue.drained():
            on_notice(
                f"Build {options.build} is finished: nothing left to run on worker {options.worker}"
            )
            queue.close()
            return None
    except BaseException:
        queue.close()
        raise
    how = "filled" if joined.filled else "joined"
    on_notice(
        f"Worker {options.worker} {how} build {options.build}: {joined.scenarios} scenarios "
        f"in {joined.entries} queue entries"
    )
    return RedisSource(queue, items, on_notice, crash_budget=1 + requeue_crashed)


def leave_build(source: RedisSource, on_notice: Callable[[str], None]) -> None:
    """Give back what this machine still holds, at once (not after the heartbeat
    timeout); a queue that is gone is said, not raised, so the reports still come."""
    try:
        source.close()
    except PbddError as error:
        on_notice(f"Warning: {error.message}")


def build_entries(
    items: Sequence[WorkItem], slots: int, dist: str, chunking: bool
) -> list[tuple[WorkItem, ...]]:
    """The queue's entries, in the order given (longest first): the ``@serial`` scenarios
    as one entry, so that they run one at a time on one machine, then the scheduler's."""
    serial = tuple(item for item in items if serial_tag(item))
    others = [item for item in items if not serial_tag(item)]
    entries = [serial] if serial else []
    return entries + list(queue_entries(others, slots, dist=dist, chunking=chunking))
