"""The results of one run as they arrive: ``Tally``.

Made by ``session.py`` for each run and fed every attempt through ``on_result`` (by the
serial run or the pool); it keeps the final attempt and every attempt of each scenario and
moves the console's live progress line. Runs in the parent only; imports no run, pool or
worker module.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from . import messages as m
from .messages import ScenarioResult, WorkItem
from .reporting.console import ConsoleReporter
from .reporting.records import Record


class Tally:
    """The results as they arrive: the final attempt of each scenario, every attempt, and
    the live progress line."""

    def __init__(self, items: Sequence[WorkItem], processes: int, reporter: ConsoleReporter):
        self.by_id = {item.scenario_id: item for item in items}
        self.processes = processes
        self.reporter = reporter
        self.results: dict[str, ScenarioResult] = {}
        self.attempts: dict[str, list[ScenarioResult]] = {}
        self.left_estimate = sum(item.estimate for item in items)
        self.failures = 0
        self.started = time.perf_counter()

    def on_result(self, result: ScenarioResult) -> None:
        previous = self.results.get(result.scenario_id)
        self.results[result.scenario_id] = result
        self.attempts.setdefault(result.scenario_id, []).append(result)
        item = self.by_id[result.scenario_id]
        self.reporter.scenario_finished(item, result)
        if previous is None:
            self.left_estimate -= item.estimate
        self.failures += result.failed - (previous.failed if previous is not None else 0)
        self.reporter.progress(
            len(self.results),
            len(self.by_id),
            self.failures,
            time.perf_counter() - self.started,
            max(0.0, self.left_estimate) / self.processes,
        )

    def records(self, in_file_order: Sequence[WorkItem]) -> list[Record]:
        """The final attempt of each scenario (not run: a record saying so)."""
        return [
            (item, self.results.get(item.scenario_id) or not_run(item)) for item in in_file_order
        ]

    def every_attempt(self, in_file_order: Sequence[WorkItem]) -> list[Record]:
        """Every attempt of each scenario, for the reports (flaky ones included)."""
        return [
            (item, attempt)
            for item in in_file_order
            for attempt in self.attempts.get(item.scenario_id) or [not_run(item)]
        ]


def not_run(item: WorkItem) -> ScenarioResult:
    """The record of a scenario that has no result."""
    return ScenarioResult(item.scenario_id, m.NOT_RUN)
