"""The dispatcher's vocabulary: the run's rules in, plain decisions out.

``Rules`` is built by whoever starts a run (the pool for ``-p N``; serial mode can ask the
same ``retry_after``); ``Send``, ``Record`` and ``Decision`` are what every event method of
``dispatch.dispatcher.Dispatcher`` returns to the pool's event loop, which acts on them
(puts entries on a worker's queue, reports records, starts or stops workers).

Frozen dataclasses of plain values. Imports no process or I/O module.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from parallel_bdd import messages as m
from parallel_bdd.dispatch.source import Entry
from parallel_bdd.messages import HookFailure, ScenarioResult, WorkItem
from parallel_bdd.scheduler import retries_for

RETRIED_STATUSES = frozenset({m.FAILED, m.ERRORED, m.AMBIGUOUS})
"""What ``--retry`` runs again. An undefined step is not retried: it cannot pass next time."""

STARTUP_DEATHS_ALLOWED = 3
"""A slot whose fresh workers die this many times in a row before running anything retires."""


@dataclass(frozen=True)
class Rules:
    """The options that decide what happens after a record or a fault."""

    retries: int = 0  # --retry N; a scenario's @retry(N) / @retry=N tag wins over it
    requeue_crashed: int = 0  # --requeue-crashed N: re-runs on a fresh worker after a crash
    failfast: bool = False  # --failfast: stop handing out work after the first final failure
    depth: int = 1  # entries a slot holds at once; 2 hides the round trip for the next one

    def retry_after(self, item: WorkItem, status: str, attempt: int) -> bool:
        """``--retry``/``@retry(N)``: does attempt number ``attempt`` (1-based) run again?"""
        return status in RETRIED_STATUSES and attempt <= retries_for(item, self.retries)

    def rerun_after_crash(self, attempt: int) -> bool:
        """``--requeue-crashed N``: does a crash in attempt ``attempt`` run it again?"""
        return attempt <= self.requeue_crashed


@dataclass(frozen=True)
class Send:
    """Give ``entry`` to ``slot``'s worker; it runs the scenarios in this order."""

    slot: int
    entry: Entry


@dataclass(frozen=True)
class Record:
    """One attempt's record. ``final``: the scenario's last word; else it runs again."""

    result: ScenarioResult
    final: bool


@dataclass(frozen=True)
class Decision:
    """What the event loop does after one event, in this order of fields.

    ``records`` lists every attempt, in the order they were settled (the reports show each
    attempt; the final one is what the summary counts). ``halt``: set the flag that makes
    every worker stop before its next scenario (``--failfast`` or Ctrl-C, once). ``stops``:
    send the end-of-work marker to these slots (their workers run ``after.batch`` and say
    they stopped). ``restarts``: start a fresh worker in these slots (the old one is dead or
    killed). ``requeued``: the scenario ids that went back to the work source.
    """

    sends: tuple[Send, ...] = ()
    records: tuple[Record, ...] = ()
    halt: bool = False
    stops: tuple[int, ...] = ()
    restarts: tuple[int, ...] = ()
    requeued: tuple[str, ...] = ()
    hook_failures: tuple[HookFailure, ...] = ()
    notices: tuple[str, ...] = ()

    @property
    def final(self) -> tuple[ScenarioResult, ...]:
        """The final records among ``records``."""
        return tuple(record.result for record in self.records if record.final)

    def __bool__(self) -> bool:
        return any(getattr(self, name) for name in self.__dataclass_fields__)


@dataclass
class Draft:
    """A decision being built by one event (the dispatcher's scratch pad)."""

    sends: list[Send] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    halt: bool = False
    stops: list[int] = field(default_factory=list)
    restarts: list[int] = field(default_factory=list)
    requeued: list[str] = field(default_factory=list)
    hook_failures: list[HookFailure] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    def freeze(self) -> Decision:
        return Decision(
            **{
                name: value if isinstance(value, bool) else tuple(value)
                for name, value in vars(self).items()
            }
        )


def stamped(result: ScenarioResult, attempt: int, notes: Sequence[str] = ()) -> ScenarioResult:
    """``result`` with the attempt number the dispatcher counted and the slot's notes."""
    changes: dict[str, Any] = {}
    if result.attempt != attempt:
        changes["attempt"] = attempt
    extra = tuple(note for note in notes if note not in result.notes)
    if extra:
        changes["notes"] = result.notes + extra
    return dataclasses.replace(result, **changes) if changes else result
