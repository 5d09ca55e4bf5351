"""Where the work comes from: the ``WorkSource`` interface and the local ordered queue.

Called only by ``dispatch.dispatcher.Dispatcher``, which asks a source for the next queue
entry whenever a slot can take one, gives back what must run again, and acknowledges each
scenario that has its final record. ``LocalQueue`` is the source of a run on one machine:
the scheduler's entries (a lone scenario, a chunk of short ones, or a whole feature for
``--dist feature``), handed out in the scheduler's order. A source shared by several
machines (``queue.source.RedisSource``: a Redis queue with leases) implements the same
methods.

Imports no process or I/O module: a source that needs the network does its I/O inside these
methods, and the dispatcher stays the same.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from typing import Protocol

from parallel_bdd.messages import ScenarioResult, WorkItem

# How often a run looks at a shared source while it waits (``Dispatcher.poll``): heartbeats
# when due, and work another machine may give back.
SHARED_POLL_SECONDS = 0.5

Entry = tuple[WorkItem, ...]
"""A queue entry: one worker takes it whole and runs its scenarios in this order."""


class WorkSource(Protocol):
    """What is left to hand out. Every method is called by the dispatcher alone.

    * ``shared``: other machines take part of the selection from the same source. This
      machine then answers only for what it was handed out: the run ends when the source
      has nothing left that this machine could still take (``remaining() == 0``), not
      when every selected scenario has a record here.
    * ``next_entry(slot)``: reserve the next entry for ``slot`` (a shared source records
      the reservation under a lease), or ``None`` when nothing is left to hand out now.
      Entries a source hands out are never handed out again unless they come back through
      ``requeue``.
    * ``requeue(entry)``: ``entry``'s scenarios must run (again): a ``--retry``, the rest of
      a chunk whose worker went away, work a stopped slot held and never started. It goes
      to the end of the order, as the pool's shared queue did.
    * ``done(result, final)``: a record of the scenario's attempt; ``final``: its last one
      (a shared source stores every attempt and acks the reservation with the final
      one; the first final record of a scenario wins).
    * ``remaining()``: how many entries this run could still take from it (the
      dispatcher starts a fresh worker only when there is work for it). Records of what a
      stopped run leaves undone come from the dispatcher, which knows the selection.
    * ``stop(running)``: the run stops (Ctrl-C, ``--failfast``): nothing more is taken,
      and ``requeue`` is no longer called. A shared source gives back at once what is
      not among the ``running`` scenario ids, for the other machines to take.
    * ``beat()``: called from time to time while the run goes on (``Dispatcher.poll``): a
      shared source heartbeats the entries this machine holds, when due.
    """

    shared: bool

    def next_entry(self, slot: int) -> Entry | None: ...

    def requeue(self, entry: Entry) -> None: ...

    def done(self, result: ScenarioResult, final: bool = True) -> None: ...

    def remaining(self) -> int: ...

    def stop(self, running: Sequence[str]) -> None: ...

    def beat(self) -> None: ...


class LocalQueue:
    """The ordered queue of a run on one machine (``WorkSource``)."""

    shared = False

    def __init__(self, entries: Iterable[Entry] = ()) -> None:
        self._entries: deque[Entry] = deque(entry for entry in entries if entry)

    def next_entry(self, slot: int) -> Entry | None:
        return self._entries.popleft() if self._entries else None

    def requeue(self, entry: Entry) -> None:
        if entry:
            self._entries.append(entry)

    def done(self, result: ScenarioResult, final: bool = True) -> None:
        """Nothing to acknowledge: a local entry left the queue when it was handed out."""

    def remaining(self) -> int:
        return len(self._entries)

    def stop(self, running: Sequence[str]) -> None:
        """Nothing to give back: what is left is reported as not run."""

    def beat(self) -> None:
        """Nothing to heartbeat: this machine alone holds its work."""

    def scenario_ids(self) -> tuple[str, ...]:
        """What is left, in the order it goes out."""
        return tuple(item.scenario_id for entry in self._entries for item in entry)


def entry_ids(entry: Sequence[WorkItem]) -> tuple[str, ...]:
    return tuple(item.scenario_id for item in entry)
