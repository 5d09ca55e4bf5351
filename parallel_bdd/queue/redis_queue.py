"""One machine's handle on a build's shared queue in Redis: ``RedisQueue``.

Called by a machine's parent process (the only Redis client of a machine; its workers
never talk to Redis): it fills the queue or joins it, reserves entries under a lease,
heartbeats them, records each scenario's results and gives back what it will not run.
The wiring into the dispatcher's ``WorkSource`` comes with the pool redesign; until then
this is a library with its own tests.

What is stored: entry ids in the queue, each entry's scenario ids (JSON), and per scenario
the plain data the reports need (``WorkItem`` as JSON) and its results (``ScenarioResult``
as JSON, ``records.py``). Never a pickle: anyone who can write the keys wrote it. Every
machine maps the scenario ids back to its own parsed items.

Imports redis-py and the ``queue`` package's modules; no process, pool or worker module.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from .. import __version__
from ..errors import QueueError
from ..messages import PASSED, ScenarioResult, WorkItem
from . import defaults
from .connection import connect, eviction_warning, first_contact, retrying, shown
from .keys import BuildKeys, check_build_id, selection_digest
from .records import item_to_json, result_to_json
from .scripts import ACK_KEYS, GIVE_BACK_KEYS, HEARTBEAT_KEYS, RESERVE_KEYS, QueueScripts

READY = "ready"
SETUP = "setup:"
WAIT_PAUSE = 0.1  # seconds between looks at a build another machine is still filling

_Value = TypeVar("_Value")


@dataclass(frozen=True)
class Reservation:
    """An entry this machine now holds: run ``scenario_ids`` in this order, then ack each."""

    entry_id: str
    lease: int
    scenario_ids: tuple[str, ...]  # those of the entry still without a final result
    reclaimed_from: str = ""  # the worker that lost it (stopped heartbeating), "" if fresh


@dataclass(frozen=True)
class Joined:
    """How this machine joined its build (``fill_or_wait``)."""

    filled: bool  # this machine filled the queue
    scenarios: int
    entries: int


class RedisQueue:
    """The build ``build``'s queue on the server at ``url``, as seen by worker ``worker``.

    ``heartbeat_timeout``: seconds without a heartbeat after which another machine takes a
    reserved entry over; ``ttl``: every key's time to live; ``queue_timeout``: how long a
    server that went away is asked again before ``QueueError``.
    """

    def __init__(
        self,
        url: str,
        build: str,
        worker: str,
        *,
        heartbeat_timeout: float = defaults.HEARTBEAT_TIMEOUT,
        ttl: int = defaults.TTL,
        queue_timeout: float = defaults.QUEUE_TIMEOUT,
    ) -> None:
        try:
            check_build_id(build)
        except ValueError as error:
            raise QueueError(str(error)) from None
        if not worker or any(char.isspace() for char in worker):
            raise QueueError(f"worker name {worker!r} must be non-empty and without spaces")
        self.url = url
        self.build = build
        self.worker = worker
        self.heartbeat_timeout = heartbeat_timeout
        self.ttl = int(ttl)
        self.queue_timeout = queue_timeout
        self.keys = BuildKeys(build)
        self.client = connect(url)
        self.scripts = QueueScripts.register(self.client)
        self._held: dict[str, int] = {}  # entry id -> lease, in reservation order

    def _call(self, call: Callable[[], _Value]) -> _Value:
        return retrying(call, self.url, self.queue_timeout)

    def check(self) -> list[str]:
        """The first contact (``QueueError`` at once when unreachable); the warnings to
        show (the server may evict keys). Called once, before ``fill_or_wait``."""
        first_contact(self.client, self.url)
        warning = self._call(lambda: eviction_warning(self.client))
        return [warning] if warning else []

    # -- joining a build -----------------------------------------------------------------
    def fill_or_wait(
        self, entries: Sequence[Sequence[WorkItem]], init_timeout: float = defaults.INIT_TIMEOUT
    ) -> Joined:
        """Fill the build's queue with ``entries`` (in the order given: the scheduler's,
        longest first) if this machine is the first to arrive; otherwise wait up to
        ``init_timeout`` seconds for the one filling it, and check that it holds the same
        selection (``QueueError`` saying what differs). A build already drained joins
        with nothing left to reserve."""
        selection = [item for entry in entries for item in entry]
        meta = {
            "digest": selection_digest(item.scenario_id for item in selection),
            "scenarios": str(len({item.scenario_id for item in selection})),
            "entries": str(len(entries)),
            "version": __version__,
        }
        deadline = time.monotonic() + init_timeout
        while True:
            claimed = self._call(
                lambda: self.client.set(self.keys.status, SETUP + self.worker, nx=True, ex=self.ttl)
            )
            if claimed:
                self._fill(entries, selection, meta)
                return Joined(True, int(meta["scenarios"]), len(entries))
            status = self._call(lambda: self.client.get(self.keys.status))
            if status == READY:
                return self._compare(meta)
            if time.monotonic() >= deadline:
                filler = (status or SETUP + "?")[len(SETUP) :]
                raise QueueError(
                    f"build {self.build} on {shown(self.url)}: worker {filler} has been "
                    f"filling the queue for more than {init_timeout:g} s",
                    hint="Did that machine die while loading the suite? Use a new build id.",
                )
            time.sleep(WAIT_PAUSE)  # a pause between looks, not a synchronisation

    def _fill(
        self,
        entries: Sequence[Sequence[WorkItem]],
        selection: Sequence[WorkItem],
        meta: dict[str, str],
    ) -> None:
        keys = self.keys
        seconds, micros = self._call(self.client.time)
        meta = {**meta, "filled_by": self.worker, "filled_at": str(seconds * 1000 + micros // 1000)}
        in_file_order = sorted({item.scenario_id: item for item in selection}.values(), key=_order)

        def fill() -> None:
            with self.client.pipeline(transaction=True) as pipe:
                pipe.delete(*(key for key in keys.all() if key != keys.status))
                pipe.hset(keys.meta, mapping=meta)
                if entries:
                    pipe.hset(keys.entries, mapping=_entry_documents(entries))
                    pipe.rpush(keys.queue, *(str(index) for index in range(len(entries))))
                    pipe.hset(keys.items, mapping=_item_documents(in_file_order))
                    pipe.rpush(keys.selection, *(item.scenario_id for item in in_file_order))
                else:
                    pipe.set(keys.finished, seconds * 1000 + micros // 1000)
                for key in keys.all():
                    pipe.expire(key, self.ttl)
                pipe.set(keys.status, READY, ex=self.ttl)
                pipe.execute()

        self._call(fill)

    def _compare(self, mine: dict[str, str]) -> Joined:
        stored = self._call(lambda: self.client.hgetall(self.keys.meta))
        differences = []
        if stored.get("version") != mine["version"]:
            differences.append(
                f"pbdd version: {stored.get('version', '?')} there, {mine['version']} here"
            )
        if stored.get("scenarios") != mine["scenarios"]:
            differences.append(
                f"scenario count: {stored.get('scenarios', '?')} there, {mine['scenarios']} here"
            )
        elif stored.get("digest") != mine["digest"]:
            differences.append(f"scenarios: other ones, {mine['scenarios']} on both")
        if differences:
            raise QueueError(
                f"build {self.build} on {shown(self.url)} was filled by worker "
                f"{stored.get('filled_by', '?')} with another selection ({'; '.join(differences)})",
                hint="Every machine of a build must run the same pbdd with the same paths and "
                "tags; a rerun needs a new build id.",
            )
        return Joined(False, int(mine["scenarios"]), int(stored.get("entries", "0")))

    # -- taking work ---------------------------------------------------------------------
    def reserve(self) -> Reservation | None:
        """The next entry for this machine under a new lease (a lost machine's entry
        first, then the queue's next), or ``None`` when there is none now."""
        keys = self.keys
        reply = self._call(
            lambda: self.scripts.reserve(
                keys=keys.named(RESERVE_KEYS),
                args=[self.worker, self.ttl, int(self.heartbeat_timeout * 1000)],
            )
        )
        if not reply:
            return None
        entry_id, lease, reclaimed_from, *scenario_ids = reply
        self._held[str(entry_id)] = int(lease)
        return Reservation(str(entry_id), int(lease), tuple(scenario_ids), str(reclaimed_from))

    def heartbeat(self, entry_ids: Iterable[str] | None = None) -> tuple[str, ...]:
        """Say this machine still runs ``entry_ids`` (default: every entry it holds; leave
        out one stuck past the scenario timeout); returns those whose lease it has lost."""
        wanted = self._held if entry_ids is None else entry_ids
        pairs = [(entry_id, self._held[entry_id]) for entry_id in wanted if entry_id in self._held]
        keys = self.keys
        lost = self._call(
            lambda: self.scripts.heartbeat(
                keys=keys.named(HEARTBEAT_KEYS),
                args=[self.worker, self.ttl, *_flat(pairs)],
            )
        )
        for entry_id in lost:
            self._held.pop(entry_id, None)
        return tuple(lost)

    def ack(self, entry_id: str, lease: int, result: ScenarioResult, *, final: bool = True) -> bool:
        """Record ``result`` of a scenario of the entry (``final``: its last attempt here);
        False when ignored: the lease was lost, or the scenario already has its final
        result (the first one wins). An entry is done when all its scenarios are."""
        keys = self.keys
        args = [
            self.worker,
            self.ttl,
            entry_id,
            lease,
            result.scenario_id,
            result_to_json(result),
            int(final),
            int(result.status == PASSED),
            int(result.failed),
        ]
        outcome = self._call(
            lambda: self.scripts.ack(
                keys=keys.named(ACK_KEYS),
                args=args,
            )
        )
        if outcome == 2 and self._held.get(entry_id) == lease:
            del self._held[entry_id]
        return bool(outcome)

    # -- giving work back ----------------------------------------------------------------
    def requeue(self, entry_id: str, lease: int) -> bool:
        """Give the entry back to the end of the queue (its scenarios that already have a
        final result are not handed out again); False when the lease was lost."""
        return self._give_back([(entry_id, lease)], front=False) == 1

    def release_all(self, keep: Iterable[str] = ()) -> int:
        """Ctrl-C: give back at once, at the front of the queue and in their order, every
        entry this machine holds but those in ``keep`` (running: released after the grace
        period with another call). Returns how many went back."""
        kept = set(keep)
        pairs = [
            (entry_id, lease) for entry_id, lease in self._held.items() if entry_id not in kept
        ]
        return self._give_back(pairs, front=True)

    def _give_back(self, pairs: list[tuple[str, int]], *, front: bool) -> int:
        if not pairs:
            return 0
        keys = self.keys
        ordered = list(reversed(pairs)) if front else pairs  # LPUSH one by one reverses
        given = self._call(
            lambda: self.scripts.give_back(
                keys=keys.named(GIVE_BACK_KEYS),
                args=["front" if front else "back", self.ttl, *_flat(ordered)],
            )
        )
        for entry_id, lease in pairs:
            if self._held.get(entry_id) == lease:
                del self._held[entry_id]
        return int(given)

    # -- looking -------------------------------------------------------------------------
    def held(self) -> dict[str, int]:
        """The entries this machine holds now: entry id -> lease."""
        return dict(self._held)

    def remaining(self) -> int:
        """Entries this machine could still get: queued, or held by others (taken over if
        their machine stops heartbeating)."""
        queued, running = self._call(self._lengths)
        return queued + max(0, running - len(self._held))

    def _lengths(self) -> tuple[int, int]:
        with self.client.pipeline(transaction=False) as pipe:
            pipe.llen(self.keys.queue)
            pipe.zcard(self.keys.running)
            queued, running = pipe.execute()
        return int(queued), int(running)

    def takeovers(self, entry_id: str) -> int:
        """How many times machines took the entry over from one that stopped heartbeating."""
        lines = self._call(lambda: self.client.lrange(self.keys.reclaimed, 0, -1))
        return sum(1 for line in lines if line.split(" ", 1)[0] == entry_id)

    def drained(self) -> bool:
        """Every scenario of the build has its final result."""
        return bool(self._call(lambda: self.client.exists(self.keys.finished)))

    def close(self) -> None:
        self.client.close()


def _order(item: WorkItem) -> tuple[int, str]:
    return (item.order, item.scenario_id)


def _entry_documents(entries: Sequence[Sequence[WorkItem]]) -> dict[str, str]:
    return {
        str(index): json.dumps([item.scenario_id for item in entry])
        for index, entry in enumerate(entries)
    }


def _item_documents(items: Sequence[WorkItem]) -> dict[str, str]:
    return {item.scenario_id: item_to_json(item) for item in items}


def _flat(pairs: Sequence[tuple[str, int]]) -> list[str | int]:
    return [value for pair in pairs for value in pair]
