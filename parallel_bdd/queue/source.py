"""A build's Redis queue as the dispatcher's work source: ``RedisSource``.

Made by ``session.py`` for a ``--queue`` run, after ``RedisQueue.fill_or_wait``, and handed
to the pool, whose ``dispatch.Dispatcher`` calls the ``WorkSource`` methods and whose loop
calls ``beat`` every few seconds. ``close`` is called once the pool is done.

How the local rules meet the shared queue:

* An entry this machine reserved stays its own (its lease heartbeated) until each of its
  scenarios has a final record. A ``--retry`` or the rest of a chunk whose worker died
  goes back on a local list under the same lease, and is handed out here first.
* Every attempt is acked (``final`` or not), so the merged report shows a retried
  scenario's attempts and marks it flaky when a later one passes.
* ``stop`` (Ctrl-C, ``--failfast``) gives back at once every entry no running scenario is
  in; ``close`` gives back what is still held at the end (the running ones a second Ctrl-C
  or the grace period cut short), so the other machines take them without waiting for the
  heartbeat timeout.
* A scenario running on a machine that is lost (it stopped heartbeating) runs again on
  the machine that takes its entry over; once an entry was taken over more than
  ``crash_budget`` times (1 + ``--requeue-crashed``), its first scenario without a
  result is recorded as errored instead, so a scenario that kills its machine cannot take
  down every machine of the build in turn.
* A lease lost to another machine (this one was paused past the heartbeat timeout) is
  dropped: the scenarios may still finish here, but their acks are ignored and each
  scenario keeps the one result the build recorded.

Imports the ``queue`` package and ``messages``; no process, pool or worker module.
"""

from __future__ import annotations

import dataclasses
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import TypeVar

from ..errors import QueueError
from ..messages import ScenarioResult, WorkItem
from .redis_queue import RedisQueue, Reservation

Entry = tuple[WorkItem, ...]
_T = TypeVar("_T")


class RedisSource:
    """What this machine takes from, and gives back to, the build's queue."""

    shared = True

    def __init__(
        self,
        queue: RedisQueue,
        items: Sequence[WorkItem],
        on_notice: Callable[[str], None],
        crash_budget: int = 1,
    ) -> None:
        self.queue = queue
        self.on_notice = on_notice
        self.crash_budget = crash_budget
        self._items = {item.scenario_id: item for item in items}
        self._entry_of: dict[str, str] = {}  # scenario id -> the entry it came in
        self._again: deque[tuple[str, Entry]] = deque()  # (entry id, what runs again here)
        self._stopped = False
        self._broken = False  # the server stayed away past --queue-timeout
        self._next_beat = 0.0

    # -- WorkSource ----------------------------------------------------------------------
    def next_entry(self, slot: int) -> Entry | None:
        if self._stopped:
            return None
        while self._again:
            entry_id, entry = self._again.popleft()
            if entry_id in self.queue.held():
                return entry
        while True:
            reservation = self._guarded(self.queue.reserve)
            if reservation is None:
                return None
            scenario_ids = reservation.scenario_ids
            if reservation.reclaimed_from:
                scenario_ids = self._taken_over(reservation)
            if scenario_ids:
                return self._entry(reservation, scenario_ids)

    def _taken_over(self, reservation: Reservation) -> tuple[str, ...]:
        """What of an entry taken over from a lost machine runs here."""
        entry_id, lost = reservation.entry_id, reservation.reclaimed_from
        self.on_notice(
            f"Warning: worker {lost} stopped heartbeating; taking over its entry {entry_id} "
            f"({len(reservation.scenario_ids)} scenario(s) without a result)"
        )
        takeovers = self._guarded(lambda: self.queue.takeovers(entry_id))
        if takeovers <= self.crash_budget:
            return reservation.scenario_ids
        first, *rest = reservation.scenario_ids
        error = (
            f"not run again: the machines running it stopped heartbeating {takeovers} times "
            f"(the last: {lost}); --requeue-crashed allows {self.crash_budget - 1} re-run(s)"
        )
        errored = ScenarioResult.errored(first, error)
        self._guarded(lambda: self.queue.ack(entry_id, reservation.lease, errored))
        self.on_notice(f"Warning: {first!r} {error}")
        return tuple(rest)

    def _entry(self, reservation: Reservation, scenario_ids: Sequence[str]) -> Entry:
        entry = []
        for scenario_id in scenario_ids:
            item = self._items.get(scenario_id)
            if item is None:  # the digest makes this unlikely: say so rather than guess
                raise QueueError(
                    f"build {self.queue.build} handed out scenario {scenario_id!r}, "
                    "which this machine did not select",
                    hint="Every machine of a build must run the same selection.",
                )
            self._entry_of[scenario_id] = reservation.entry_id
            entry.append(item)
        return tuple(entry)

    def requeue(self, entry: Entry) -> None:
        """Runs again on this machine, under the lease it still holds."""
        by_entry: dict[str, list[WorkItem]] = {}
        for item in entry:
            entry_id = self._entry_of.get(item.scenario_id)
            if entry_id is not None:
                by_entry.setdefault(entry_id, []).append(item)
        for entry_id, items in by_entry.items():
            self._again.append((entry_id, tuple(items)))

    def done(self, result: ScenarioResult, final: bool = True) -> None:
        """Ack the attempt, naming this machine (the merged report's lanes)."""
        result = dataclasses.replace(result, machine=self.queue.worker)
        entry_id = self._entry_of.get(result.scenario_id)
        lease = self.queue.held().get(entry_id or "")
        recorded = False
        if entry_id is not None and lease is not None:
            recorded = self._guarded(lambda: self.queue.ack(entry_id, lease, result, final=final))
        if final and not recorded:
            self.on_notice(
                f"Warning: the result of {result.scenario_id!r} on this machine was not "
                "recorded: another machine took its entry over (this one stopped "
                "heartbeating for a while), and the build keeps that machine's result"
            )

    def remaining(self) -> int:
        """Entries run here again, plus those this machine could still reserve: queued,
        or held by machines that may be lost."""
        if self._stopped:
            return len(self._again)
        return len(self._again) + self._guarded(self.queue.remaining)

    def stop(self, running: Sequence[str]) -> None:
        self._stopped = True
        self._again.clear()
        keep = {
            self._entry_of[scenario_id] for scenario_id in running if scenario_id in self._entry_of
        }
        self._say_given_back(self._guarded(lambda: self.queue.release_all(keep=keep)))

    # -- the pool's loop -----------------------------------------------------------------
    def beat(self) -> None:
        """Heartbeat the held entries, every third of the heartbeat timeout."""
        now = time.monotonic()
        if now < self._next_beat or self._broken:
            return
        self._next_beat = now + self.queue.heartbeat_timeout / 3
        if not self.queue.held():
            return
        for entry_id in self._guarded(self.queue.heartbeat):
            self.on_notice(
                f"Warning: entry {entry_id} went to another machine (no heartbeat from this "
                f"one for {self.queue.heartbeat_timeout:g} s); what runs of it here is not "
                "recorded"
            )

    def close(self) -> None:
        """The run is over: give back what is still held, then hang up."""
        try:
            if not self._broken:
                self._say_given_back(self.queue.release_all(), "unfinished ")
        finally:
            self.queue.close()

    def _say_given_back(self, given: int, which: str = "") -> None:
        """The notice for ``given`` entries handed back to the other machines (0: none)."""
        if given:
            entries = f"entr{'y' if given == 1 else 'ies'}"
            self.on_notice(f"Gave {given} {which}queue {entries} back to the build")

    def _guarded(self, call: Callable[[], _T]) -> _T:
        try:
            return call()
        except QueueError:
            self._broken = True
            raise
