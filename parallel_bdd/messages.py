"""Plain data that crosses a process boundary: work items in, results out.

Written by the loader (``WorkItem``) and by ``runner.py`` (``ScenarioResult``); read by
the pool, the reporters, the history and the scheduler. Everything here is a frozen
dataclass of str/int/float/tuples so that it pickles the same on every start method and
a user's exception object or fixture never has to cross into the parent.

Imports nothing from the rest of the package.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from typing import Any, TypeVar

# Step statuses, in the order lettuce's summary lists them.
PASSED = "passed"
FAILED = "failed"
SKIPPED = "skipped"  # not run because an earlier step failed or was undefined
UNDEFINED = "undefined"
AMBIGUOUS = "ambiguous"  # several definitions matched equally well: counts as failed

# Scenario statuses (a scenario's status is the worst of its steps, or one of these).
ERRORED = "errored"  # a hook raised, the worker died, the scenario timed out
NOT_RUN = "not_run"  # interrupted, --failfast, or never dispatched

SCENARIO_FAILURES = frozenset({FAILED, ERRORED, UNDEFINED, AMBIGUOUS})

# An outline row's values in its display name: enough to tell rows apart on one line.
_ROW_CELL_WIDTH = 24
_ROW_VALUES_WIDTH = 60


@dataclass(frozen=True)
class StepData:
    """One compiled step as the parent parsed it (placeholders already substituted)."""

    keyword: str  # as written, with its trailing space: "Given ", "And ", "* "
    text: str  # step text after the keyword, outline values substituted
    line: int
    original_text: str = ""  # template text (with <placeholders>) for outline steps
    table: tuple[tuple[str, ...], ...] = ()  # data table rows, header first; () if none
    doc_string: str | None = None
    doc_string_type: str = ""
    in_background: bool = False

    @property
    def sentence(self) -> str:
        """What lettuce matched against: the keyword as written plus the text."""
        return f"{self.keyword}{self.text}"


@dataclass(frozen=True)
class FeatureData:
    """What a worker needs to know about a scenario's feature (hooks and reports)."""

    path: str  # as shown to the user: relative to the current directory when possible
    name: str
    line: int
    description: str = ""
    tags: tuple[str, ...] = ()  # without the leading "@"
    language: str = "en"
    keyword: str = "Feature"
    background_name: str = ""
    background_line: int = 0


@dataclass(frozen=True)
class WorkItem:
    """The scheduling unit: one scenario, or one row of a Scenario Outline."""

    scenario_id: str  # "<feature path>::<name>[::<row index>]", stable across runs
    feature: FeatureData
    name: str  # outline rows: placeholders substituted, as gherkin names the pickle
    line: int  # the scenario's line (outline rows: the Examples row's line)
    keyword: str = "Scenario"
    tags: tuple[str, ...] = ()  # own + inherited (feature, rule, examples), no "@"
    steps: tuple[StepData, ...] = ()  # background steps first (in_background=True)
    scenario_line: int = 0  # the Scenario/Outline keyword line (== line for plain ones)
    template_name: str = ""  # outline: the name as written, with <placeholders>
    outline_keys: tuple[str, ...] = ()  # outline: Examples header
    outline_values: tuple[str, ...] = ()  # outline: this row's cells
    outline_index: int = -1  # 0-based row index across the outline's Examples; -1 if none
    order: int = 0  # position in file order across the whole selection
    estimate: float = 0.0  # seconds, from history (median of known ones when unknown)

    @property
    def is_outline_row(self) -> bool:
        return self.outline_index >= 0

    @property
    def location(self) -> str:
        return f"{self.feature.path}:{self.line}"

    @property
    def display_name(self) -> str:
        """The name every report shows (console, JUnit, Cucumber JSON).

        An outline row whose name has ``<placeholders>`` already differs from its siblings
        (the values are substituted, as cucumber names it); one whose name has none gets its
        Examples values, shortened: ``Restock [3, red sweaters]``. Not a key: history and
        ``--rerun-failed`` go by ``scenario_id``.
        """
        if not self.is_outline_row or self.name != (self.template_name or self.name):
            return self.name
        return f"{self.name} [{_row_label(self.outline_values, self.outline_index)}]"


def _row_label(values: tuple[str, ...], index: int) -> str:
    """An Examples row's values on one line, each cell and the whole shortened with "…";
    ``example N`` (N from 1) for a row without cells."""
    if not values:
        return f"example {index + 1}"
    cells = [_shortened(" ".join(value.split()) or '""', _ROW_CELL_WIDTH) for value in values]
    return _shortened(", ".join(cells), _ROW_VALUES_WIDTH)


def _shortened(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip(" ,…") + "…"


_Record = TypeVar("_Record")


def updated(record: _Record, **changes: Any) -> _Record:
    """``dataclasses.replace`` for a frozen record without running ``__init__`` again: its
    fields copied with ``changes``. Every scenario is copied twice before a run (its place
    in the selection, its estimate)."""
    fields = record.__dataclass_fields__  # type: ignore[attr-defined]
    unknown = changes.keys() - fields.keys()
    if unknown:
        raise TypeError(f"{type(record).__name__} has no field {sorted(unknown)[0]!r}")
    copy = object.__new__(type(record))
    copy.__dict__.update(record.__dict__)
    copy.__dict__.update(changes)
    return copy


@dataclass(frozen=True)
class StepResult:
    keyword: str
    text: str
    line: int
    status: str  # PASSED/FAILED/SKIPPED/UNDEFINED/AMBIGUOUS
    duration: float = 0.0
    definition: str = ""  # "steps.py:12" of the matched definition, "" if none
    error: str = ""  # one line: "AssertionError: expected 4, got 3"
    traceback: str = ""  # formatted, runner frames trimmed
    in_background: bool = False
    table: tuple[tuple[str, ...], ...] = ()
    doc_string: str | None = None
    candidates: tuple[str, ...] = ()  # ambiguous: "regex  # file:line" of each match

    @property
    def sentence(self) -> str:
        return f"{self.keyword}{self.text}"


@dataclass(frozen=True)
class ScenarioResult:
    scenario_id: str
    status: str  # PASSED, FAILED, UNDEFINED, AMBIGUOUS, ERRORED, NOT_RUN
    steps: tuple[StepResult, ...] = ()
    duration: float = 0.0  # seconds, hooks included
    started_at: float = 0.0  # time.time() when the scenario started
    worker_id: int = -1  # -1: the parent (serial run)
    machine: str = ""  # --queue: the --worker name of the machine that ran it
    stdout: str = ""
    stderr: str = ""
    log: str = ""  # captured logging records, formatted
    error: str = ""  # errored: what went wrong outside the steps (hook, crash, timeout)
    error_traceback: str = ""
    attempt: int = 1  # 1-based; > 1 when re-run (--retry, --requeue-crashed)
    artifacts: tuple[str, ...] = ()  # files attached to the report (screenshots...)
    notes: tuple[str, ...] = field(default=())  # warnings raised while it ran

    @classmethod
    def errored(
        cls, scenario_id: str, error: str, traceback: str = "", **fields: Any
    ) -> ScenarioResult:
        """A scenario ended outside its steps by ``error`` (a hook, a crash, a timeout, a
        result that would not pickle); ``fields``: the rest of the record."""
        return cls(scenario_id, ERRORED, error=error, error_traceback=traceback, **fields)

    def turned_errored(self, error: str, traceback: str = "") -> ScenarioResult:
        """This attempt, its steps and output kept, ended by ``error`` after all."""
        return updated(self, status=ERRORED, error=error, error_traceback=traceback)

    @property
    def failed(self) -> bool:
        return self.status in SCENARIO_FAILURES

    @property
    def failing_step(self) -> StepResult | None:
        for step in self.steps:
            if step.status in (FAILED, AMBIGUOUS):
                return step
        return None


@dataclass(frozen=True)
class HookFailure:
    """A hook that raised outside any one scenario (batch, each_feature at batch end, all)."""

    hook: str  # "before.batch", "after.each_feature", ...
    error: str
    traceback: str
    worker_id: int = -1
    subject: str = ""  # the feature's name for each_feature hooks


@dataclass(frozen=True)
class BatchSpan:
    """When a ``before.batch`` or ``after.batch`` ran in one worker (or the serial run),
    for the HTML report's timeline. Made by ``runner.Batch``."""

    hook: str  # "before.batch" or "after.batch"
    worker_id: int
    started_at: float  # time.time() when the hooks began
    duration: float  # seconds, every hook of that name together


@dataclass(frozen=True)
class WorkerEvent:
    """What a worker tells the parent (``pool.supervisor`` has a method for each kind)."""

    kind: str  # "batch", "ready", "results", "hook_failure", "warning", "recycle", "done"
    worker_id: int
    packed_results: bytes = b""  # "results": finished scenarios of the entry, pack()ed
    failure: HookFailure | None = None
    span: BatchSpan | None = None  # "ready": its before.batch; "done": the last batch hook
    message: str = ""
    pid: int = 0

    def results(self) -> tuple[ScenarioResult, ...]:
        return unpack(self.packed_results) if self.packed_results else ()


def pack(records: tuple[Any, ...]) -> bytes:
    """Records pickled once, by whoever sends them through the manager.

    The manager unpickles what it is given and pickles it again for the receiver; bytes
    pass through it at the cost of a copy, where unpickling and pickling every record
    would take CPU time from the workers on a busy machine, and make every worker whose
    request queues behind it wait.
    """
    return pickle.dumps(records, protocol=pickle.HIGHEST_PROTOCOL)


def unpack(data: bytes) -> tuple[Any, ...]:
    """The records ``pack`` made (``data`` comes from a pbdd process of this run)."""
    records: tuple[Any, ...] = pickle.loads(data)
    return records
