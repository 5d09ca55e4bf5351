"""The objects step functions and hooks receive: ``Feature``, ``Scenario``, ``Step``.

Built by ``runner.py`` from a ``WorkItem`` (plain data) inside the process that runs it,
with the attribute names lettuce suites use (``step.hashes``, ``step.multiline``,
``scenario.tags``...). ``TotalResult`` is what ``@after.all`` receives, built by the
parent from the results. Imports nothing from cli or reporting.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .messages import (
    AMBIGUOUS,
    FAILED,
    PASSED,
    SKIPPED,
    UNDEFINED,
    FeatureData,
    ScenarioResult,
    StepData,
    WorkItem,
)

if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass(frozen=True)
class Location:
    file: str
    line: int
    function: Any = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class HashList(list):  # type: ignore[type-arg]
    """``step.hashes``: one dict per table row, with lettuce's helpers.

    A list the step may change (append, remove, edit a row), as lettuce's was: every run
    of a step builds its own from the frozen ``StepData``, so no change reaches another
    scenario, outline row or step.
    """

    def __init__(self, keys: Iterable[str], rows: Iterable[dict[str, str]]) -> None:
        super().__init__(rows)
        self._keys = tuple(keys)

    @property
    def first(self) -> dict[str, str]:
        assert self, "the step has no table rows"
        return self[0]

    @property
    def last(self) -> dict[str, str]:
        assert self, "the step has no table rows"
        return self[-1]

    def values_under(self, key: str) -> list[str]:
        # a step may add a column to its rows (lettuce looked the key up in each row)
        known = key in self._keys or (self and all(key in row for row in self))
        assert known, f"the table has no column {key!r} (columns: {self._keys})"
        return [row[key] for row in self]


class ReasonToFail:
    """``step.why``: the exception a step failed with, and its formatted traceback."""

    def __init__(self, exception: BaseException, traceback: str) -> None:
        self.exception = exception
        self.cause = (
            exception.args[0] if exception.args and isinstance(exception.args[0], str) else ""
        )
        self.traceback = traceback


class Feature:
    def __init__(self, data: FeatureData) -> None:
        self.data = data
        self.name = data.name
        self.description = data.description
        self.tags = list(data.tags) or None
        self.language = data.language
        self.keyword = data.keyword
        self.described_at = Location(data.path, data.line)
        self.background = (
            Background(data.background_name, data.path, data.background_line)
            if (data.background_line)
            else None
        )
        # A worker only sees the scenarios it runs; the feature's full list stays in the parent.
        self.scenarios: list[Scenario] = []

    @property
    def path(self) -> str:
        return self.data.path

    def __repr__(self) -> str:
        return f'<Feature: "{self.name}">'


class Background:
    def __init__(self, name: str, path: str, line: int) -> None:
        self.name = name
        self.described_at = Location(path, line)
        self.steps: list[Step] = []

    def __repr__(self) -> str:
        return "<Background>"


class Scenario:
    """One scheduling unit as hooks see it (an outline row is a Scenario of its own)."""

    def __init__(self, item: WorkItem, feature: Feature) -> None:
        self.item = item
        self.id = item.scenario_id
        self.name = item.name
        self.keyword = item.keyword
        # lettuce appends the feature's tags to the scenario's; gherkin already inherits them.
        self.tags = list(item.tags)
        self.feature = feature
        self.language = feature.language
        self.described_at = Location(item.feature.path, item.scenario_line or item.line)
        self.background = feature.background
        self.row: dict[str, str] = dict(zip(item.outline_keys, item.outline_values, strict=False))
        self.outlines = [self.row] if item.is_outline_row else []
        self.keys = item.outline_keys
        self.background_steps = [Step(data, self) for data in item.steps if data.in_background]
        self.steps = [Step(data, self) for data in item.steps if not data.in_background]
        self.solved_steps = self.steps
        self.worker_id: int | None = None
        self.error: BaseException | None = None

    @property
    def all_steps(self) -> list[Step]:
        return self.background_steps + self.steps

    @property
    def ran(self) -> bool:
        return any(step.ran for step in self.all_steps)

    @property
    def failed(self) -> bool:
        return self.error is not None or any(
            step.status in (FAILED, AMBIGUOUS, UNDEFINED) for step in self.all_steps
        )

    @property
    def passed(self) -> bool:
        return not self.failed and all(step.status == PASSED for step in self.all_steps)

    def represented(self) -> str:
        tags = " ".join(f"@{tag}" for tag in self.tags)
        head = f"{tags}\n" if tags else ""
        return f"{head}{self.keyword}: {self.name}  # {self.described_at}"

    def __repr__(self) -> str:
        return f'<Scenario: "{self.name}">'


class Step:
    """The first argument of every step function."""

    def __init__(self, data: StepData, scenario: Scenario | None) -> None:
        self.data = data
        self.keyword = data.keyword
        self.text = data.text
        self.sentence = data.sentence.strip()
        self.original_sentence = (
            f"{data.keyword}{data.original_text}".strip() if data.original_text else self.sentence
        )
        self.scenario = scenario if not data.in_background else None
        self.background = scenario.background if (scenario and data.in_background) else None
        self.parent = self.background or self.scenario
        self._owner = scenario
        self.described_at = Location(scenario.item.feature.path if scenario else "", data.line)
        self.defined_at: Location | None = None
        self.multiline = data.doc_string if data.doc_string is not None else ""
        if data.table:
            self.table = [list(row) for row in data.table]
            self.keys = tuple(data.table[0])
            rows = [dict(zip(self.keys, row, strict=False)) for row in data.table[1:]]
            self.hashes = HashList(self.keys, rows)
        else:
            self.table, self.keys, self.hashes = [], (), HashList((), ())
        self.status: str | None = None
        self.why: ReasonToFail | None = None
        self.duration = 0.0
        self.error_text = ""
        self.candidates: tuple[str, ...] = ()
        self.runner: Callable[[Step, str], None] | None = None

    # lettuce's view of the status: None before running and for undefined steps.
    @property
    def ran(self) -> bool:
        return self.status in (PASSED, FAILED)

    @property
    def passed(self) -> bool | None:
        return None if self.status in (None, UNDEFINED, SKIPPED) else self.status == PASSED

    @property
    def failed(self) -> bool | None:
        return None if self.status in (None, UNDEFINED, SKIPPED) else self.status != PASSED

    @property
    def has_definition(self) -> bool:
        return self.defined_at is not None

    @property
    def columns(self) -> dict[str, list[str]]:
        return {key: [row[key] for row in self.hashes] for key in self.keys}

    @property
    def non_unique_keys(self) -> list[dict[str, list[str]]]:
        return [{key: [row[i] for row in self.table[1:]]} for i, key in enumerate(self.keys)]

    def behave_as(self, text: str) -> None:
        """Run other steps, one per line of ``text``; the first failure fails this step."""
        if self.runner is None:
            raise RuntimeError("behave_as is only available while the step runs")
        self.runner(self, text)

    def given(self, text: str) -> None:
        self.behave_as(f"Given {text}")

    def when(self, text: str) -> None:
        self.behave_as(f"When {text}")

    def then(self, text: str) -> None:
        self.behave_as(f"Then {text}")

    def __repr__(self) -> str:
        return f'<Step: "{self.sentence}">'


@dataclass
class ScenarioTotal:
    name: str
    steps_passed: int = 0
    steps_failed: int = 0
    steps_skipped: int = 0
    steps_undefined: int = 0
    time_elapsed: float = 0.0
    passed: bool = False


@dataclass
class FeatureTotal:
    name: str
    path: str
    scenario_results: list[ScenarioTotal] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(result.passed for result in self.scenario_results)


@dataclass
class TotalResult:
    """What ``@after.all`` receives: lettuce's counters plus pbdd's timings."""

    feature_results: list[FeatureTotal] = field(default_factory=list)
    steps: int = 0
    steps_passed: int = 0
    steps_failed: int = 0
    steps_skipped: int = 0
    steps_undefined: int = 0
    scenarios_not_run: int = 0
    proposed_definitions: list[str] = field(default_factory=list)
    failed_scenario_locations: list[str] = field(default_factory=list)
    time_elapsed: float = 0.0
    interrupted: bool = False

    @property
    def features_ran(self) -> int:
        return len(self.feature_results)

    @property
    def features_passed(self) -> int:
        return sum(1 for feature in self.feature_results if feature.passed)

    @property
    def scenarios_ran(self) -> int:
        return sum(len(feature.scenario_results) for feature in self.feature_results)

    @property
    def scenarios_passed(self) -> int:
        return sum(
            1 for feature in self.feature_results for s in feature.scenario_results if s.passed
        )

    @property
    def is_success(self) -> bool:
        return (
            not self.interrupted
            and self.scenarios_not_run == 0
            and self.scenarios_ran > 0
            and self.scenarios_passed == self.scenarios_ran
        )


def total_from_results(records: Iterable[tuple[WorkItem, ScenarioResult]]) -> TotalResult:
    """Count results lettuce's way: an outline row is a scenario, background steps count too."""
    total = TotalResult()
    features: dict[str, FeatureTotal] = {}
    for item, result in records:
        if result.status == "not_run":
            total.scenarios_not_run += 1
            continue
        feature = features.get(item.feature.path)
        if feature is None:
            feature = features[item.feature.path] = FeatureTotal(
                item.feature.name, item.feature.path
            )
        counts = ScenarioTotal(item.name, time_elapsed=result.duration)
        for step in result.steps:
            total.steps += 1
            if step.status == PASSED:
                counts.steps_passed += 1
            elif step.status in (FAILED, AMBIGUOUS):
                counts.steps_failed += 1
            elif step.status == SKIPPED:
                counts.steps_skipped += 1
            elif step.status == UNDEFINED:
                counts.steps_undefined += 1
        if not result.steps and result.status == "errored":
            # crashed, timed out or lost with its worker: no step reported back, so its
            # steps count as not run (skipped) and the totals still cover the selection
            total.steps += len(item.steps)
            counts.steps_skipped += len(item.steps)
        counts.passed = result.status == PASSED
        total.steps_passed += counts.steps_passed
        total.steps_failed += counts.steps_failed
        total.steps_skipped += counts.steps_skipped
        total.steps_undefined += counts.steps_undefined
        if result.status in (FAILED, AMBIGUOUS, "errored"):
            total.failed_scenario_locations.append(item.location)
        feature.scenario_results.append(counts)
    total.feature_results = list(features.values())
    return total
