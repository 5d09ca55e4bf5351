"""The read-only end of a build: wait for every scenario's final result, then report.

Called by ``report_command.py`` (``pbdd report``). It only reads the build's keys, so it
can run while the machines work, and running it twice reports the same. It is never green
with a result missing: it gives up after ``timeout`` seconds, or earlier when no machine
has reserved, heartbeated or acked for ``inactive_timeout`` seconds (by the server's
clock), naming the scenarios without a result.

Imports redis-py, ``messages``, ``reporting`` and this package; no process module.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import redis

from ..errors import QueueError
from ..messages import ScenarioResult, WorkItem, updated
from . import defaults
from .connection import connect, first_contact, retrying, shown
from .keys import BuildKeys
from .records import BadRecord, item_from_json, result_from_json

POLL_PAUSE = 0.5  # seconds between whole reads of an unfinished build
FINISHED_PAUSE = 0.05  # seconds between looks at its "finished" key meanwhile


@dataclass
class BuildState:
    """What a build's keys say now."""

    scenario_ids: list[str]  # the selection, in file order ([] before it is filled)
    items: dict[str, WorkItem]
    results: dict[str, ScenarioResult]  # final ones
    attempts: dict[str, list[ScenarioResult]]  # every attempt, in the order recorded
    flaky: set[str]
    machines: dict[str, int]  # worker -> last seen, server ms
    reclaimed: list[str]  # "<entry> <from> <to>"
    now: int  # server ms
    filled: bool = field(default=False)

    @property
    def missing(self) -> list[str]:
        return [sid for sid in self.scenario_ids if sid not in self.results]

    @property
    def complete(self) -> bool:
        return self.filled and not self.missing

    def records(self) -> list[tuple[WorkItem, ScenarioResult]]:
        """Each scenario's final result with its item, in file order."""
        return [(self.items[sid], self.results[sid]) for sid in self.scenario_ids]

    def every_attempt(self) -> list[tuple[WorkItem, ScenarioResult]]:
        return [
            (self.items[sid], attempt)
            for sid in self.scenario_ids
            for attempt in self.attempts.get(sid) or [self.results[sid]]
        ]

    def wall_time(self) -> float:
        """From the first scenario's start to the last one's end (the machines' clocks)."""
        results = list(self.results.values())
        if not results:
            return 0.0
        start = min(result.started_at for result in results)
        return max(result.started_at + result.duration for result in results) - start


class Incomplete(QueueError):
    """The build did not get every result in time; exit 1 like a failed run."""

    exit_code = 1


def read_build(client: redis.Redis, keys: BuildKeys) -> BuildState:
    """One consistent read of the build (a ``MULTI`` of reads), checked as data."""
    with client.pipeline(transaction=True) as pipe:
        pipe.get(keys.status)
        pipe.lrange(keys.selection, 0, -1)
        pipe.hgetall(keys.items)
        pipe.hgetall(keys.results)
        pipe.hgetall(keys.attempts)
        pipe.smembers(keys.flaky)
        pipe.hgetall(keys.workers)
        pipe.lrange(keys.reclaimed, 0, -1)
        pipe.time()
        status, ids, items, results, attempts, flaky, workers, reclaimed, now = pipe.execute()
    try:
        state = BuildState(
            scenario_ids=list(ids),
            items={sid: item_from_json(text) for sid, text in items.items()},
            results={sid: result_from_json(text) for sid, text in results.items()},
            attempts=_attempts(attempts),
            flaky=set(flaky),
            machines={name: int(seen) for name, seen in workers.items()},
            reclaimed=list(reclaimed),
            now=int(now[0]) * 1000 + int(now[1]) // 1000,
            filled=status == "ready",
        )
    except (BadRecord, ValueError) as error:
        raise QueueError(f"build {keys.build} holds a record pbdd did not write: {error}") from None
    unknown = [sid for sid in state.scenario_ids if sid not in state.items]
    if unknown:
        raise QueueError(f"build {keys.build} has no record of scenario {unknown[0]}")
    return state


def _attempts(stored: dict[str, str]) -> dict[str, list[ScenarioResult]]:
    """``<id>\\n<n>`` -> JSON into id -> attempts in order, numbered 1.. across machines."""
    numbered: dict[str, list[tuple[int, ScenarioResult]]] = {}
    for key, text in stored.items():
        sid, _, number = key.rpartition("\n")
        numbered.setdefault(sid, []).append((int(number), result_from_json(text)))
    return {
        sid: [updated(result, attempt=n) for n, result in sorted(pairs, key=lambda p: p[0])]
        for sid, pairs in numbered.items()
    }


def wait_for_build(
    url: str,
    build: str,
    *,
    timeout: float,
    inactive_timeout: float,
    queue_timeout: float = defaults.QUEUE_TIMEOUT,
    poll_pause: float = POLL_PAUSE,
) -> BuildState:
    """The build once every scenario has its final result; ``Incomplete`` naming the
    missing scenarios after ``timeout`` s, or when no machine has been seen for
    ``inactive_timeout`` s; ``QueueError`` when Redis cannot be reached."""
    client = connect(url)
    keys = BuildKeys(build)
    try:
        first_contact(client, url)
        deadline = time.monotonic() + timeout
        started = None
        while True:
            state = retrying(lambda: read_build(client, keys), url, queue_timeout)
            if state.complete:
                return state
            started = state.now if started is None else started
            last_seen = max([started, *state.machines.values()])
            if state.now - last_seen > inactive_timeout * 1000:
                raise _incomplete(url, build, state, f"no machine seen for {inactive_timeout:g} s")
            if time.monotonic() >= deadline:
                raise _incomplete(url, build, state, f"--timeout {timeout:g} s is over")
            retrying(lambda: _until_finished(client, keys, poll_pause), url, queue_timeout)
    finally:
        client.close()


def _until_finished(client: redis.Redis, keys: BuildKeys, pause: float) -> None:
    """Wait up to ``pause`` s between whole reads of the build, looking at its cheap
    ``finished`` key meanwhile: the report ends soon after the last ack, not up to a
    pause later."""
    until = time.monotonic() + pause
    while time.monotonic() < until and not client.exists(keys.finished):
        time.sleep(FINISHED_PAUSE)  # a pause between looks, not a synchronisation


def _incomplete(url: str, build: str, state: BuildState, why: str) -> Incomplete:
    if not state.filled:
        return Incomplete(f"build {build} on {shown(url)} was never filled ({why})")
    missing = state.missing
    shown_ids = "\n  ".join(missing[:50]) + ("\n  ..." if len(missing) > 50 else "")
    return Incomplete(
        f"build {build}: {len(missing)} of {len(state.scenario_ids)} scenarios have no "
        f"result ({why}):\n  {shown_ids}"
    )
