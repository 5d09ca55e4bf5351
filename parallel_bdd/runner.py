"""Run scenarios in this process: a ``Batch`` is one worker's share of the work.

Called by ``worker.py`` inside each worker and by ``serial.py`` for a serial run (``-p 1``),
so the parallel path never drifts from the serial one. Produces ``ScenarioResult``
records (plain data) and never prints to the terminal: a scenario's stdout, stderr and
log records are captured into its result (but for ``--pdb`` in a serial run: the capture
is suspended while pdb holds the terminal). Imports nothing from cli or reporting.
"""

from __future__ import annotations

import contextvars
import io
import logging
import os
import re
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import messages as m
from .app_hooks import AppRun
from .capture import OutputCapture
from .errors import PbddError
from .handover import WorldHandover, remake_in_worker
from .hooks import HOOKS
from .messages import BatchSpan, HookFailure, ScenarioResult, StepData, StepResult, WorkItem
from .model import Feature, Location, ReasonToFail, Scenario, Step
from .registry import STEPS, AmbiguousMatch
from .world import scenario_namespace, world

PACKAGE_DIR = str(Path(__file__).resolve().parent)
CONTRIB_DIR = os.path.join(PACKAGE_DIR, "contrib")
STEP_KEYWORDS = ("given", "when", "then", "and", "but", "*")

# Every log record made while a scenario runs carries the worker and scenario id. The
# context variable serves the scenario's own thread; the module-level fallback serves
# threads the suite started itself (a server thread), which do not inherit the context.
_context: contextvars.ContextVar[tuple[int, str] | None] = contextvars.ContextVar(
    "pbdd_scenario", default=None
)
_fallback: list[tuple[int, str]] = [(-1, "")]
_factory_installed = False


def _install_record_factory() -> None:
    global _factory_installed
    if _factory_installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        worker, scenario_id = _context.get() or _fallback[0]
        record.pbdd_worker = worker
        record.pbdd_scenario = scenario_id
        return record

    logging.setLogRecordFactory(factory)
    _factory_installed = True


LOG_FORMAT = "%(levelname)-8s %(name)s [worker %(pbdd_worker)s %(pbdd_scenario)s] %(message)s"


def _is_runner_frame(filename: str) -> bool:
    return filename.startswith(PACKAGE_DIR) and not filename.startswith(CONTRIB_DIR)


def format_user_traceback(error: BaseException) -> str:
    """The traceback of a user's exception with pbdd's own frames trimmed.

    None for pbdd's own errors (a contrib helper's, say): their message and hint say what
    is wrong and what to do; the frames that raised them would only bury that.
    """
    if isinstance(error, PbddError):
        return ""
    tb = error.__traceback__
    while tb is not None and _is_runner_frame(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    lines = traceback.format_exception(type(error), error, tb)
    return "".join(line for line in lines if line).rstrip()


def describe_error(error: BaseException) -> str:
    if isinstance(error, PbddError):  # our own errors carry a hint worth showing
        return f"{type(error).__name__}: {error.format_message()}"
    text = str(error).strip().split("\n")[0]
    name = type(error).__name__
    return f"{name}: {text}" if text else name


def _hook_error(hook: str, error: BaseException) -> tuple[str, str]:
    """A scenario's error from its ``hook``: the message and the user's traceback."""
    return f"{hook} hook failed: {describe_error(error)}", format_user_traceback(error)


def hook_failure(
    hook: str, error: BaseException, worker_id: int = -1, subject: str = ""
) -> HookFailure:
    """The record of ``hook`` that raised ``error`` outside any one scenario."""
    return HookFailure(
        hook, describe_error(error), format_user_traceback(error), worker_id, subject
    )


class Batch:
    """``before.batch``, then scenarios one by one, then ``after.each_feature``/``after.batch``."""

    def __init__(
        self,
        worker_id: int,
        *,
        capture_fds: bool = True,
        on_hook_failure: Callable[[HookFailure], None] | None = None,
        post_mortem: bool = False,
    ) -> None:
        self.worker_id = worker_id
        # --pdb: pdb on the exception of a failing step function, in this process's terminal
        self.post_mortem = post_mortem
        self.failures: list[HookFailure] = []
        self.spans: list[BatchSpan] = []  # when before.batch and after.batch ran
        self._on_hook_failure = on_hook_failure
        self._features: dict[str, Feature] = {}
        self._feature_errors: dict[str, tuple[str, str]] = {}
        self._apps = AppRun(lambda error: self._hook_failed("after.each_app", error))
        self._capture = OutputCapture(capture_fds)
        self._log_stream = io.StringIO()
        self._log_handler = logging.StreamHandler(self._log_stream)
        self._log_handler.setFormatter(logging.Formatter(LOG_FORMAT))
        _install_record_factory()
        # Read by the slow-step watchdog thread (worker.SlowStepWatchdog): the step function
        # running now, when it started (perf_counter) and its thread; and the scenario's notes.
        self.current_step: tuple[Step, float, int] | None = None
        self.notes: list[str] = []

    # -- batch level -------------------------------------------------------------------
    def _hook_failed(self, hook: str, error: BaseException, subject: str = "") -> HookFailure:
        failure = hook_failure(hook, error, self.worker_id, subject)
        self.failures.append(failure)
        if self._on_hook_failure is not None:
            self._on_hook_failure(failure)
        return failure

    def start(self, handover: WorldHandover | None = None) -> bool:
        """Run ``before.batch``; False (and a recorded failure) if it raised.

        In a worker, ``handover`` names the before.all hooks to run here first: those that
        left on ``world`` something that cannot be copied from the parent.
        """
        if handover is not None and handover.rerun:
            try:
                remake_in_worker(handover.rerun)
            except Exception as error:  # a user's hook may raise anything
                names = ", ".join(f"world.{name}" for name in handover.remade)
                self._hook_failed("before.all", error, subject=f"run again to make {names}")
                return False
        return self._batch_hooks("before")

    @property
    def last_span(self) -> BatchSpan | None:
        """The batch hooks that ran last (``worker.py`` sends it to the parent)."""
        return self.spans[-1] if self.spans else None

    def _batch_hooks(self, when: str) -> bool:
        """Run the ``before.batch`` or ``after.batch`` hooks and record when they ran;
        False (and a recorded failure) if one raised."""
        started_at, start = time.time(), time.perf_counter()
        try:
            HOOKS.call(when, "batch")
            return True
        except Exception as error:  # a user's hook may raise anything
            self._hook_failed(f"{when}.batch", error)
            return False
        finally:
            duration = time.perf_counter() - start
            self.spans.append(BatchSpan(f"{when}.batch", self.worker_id, started_at, duration))

    def finish(self) -> None:
        """``after.each_feature`` for every feature this batch met, ``after.each_app`` for
        the last app (``app_hooks.py``), then ``after.batch``."""
        for feature in self._features.values():
            try:
                HOOKS.call("after", "each_feature", feature)
            except Exception as error:
                self._hook_failed("after.each_feature", error, subject=feature.name)
        self._apps.leave()
        self._batch_hooks("after")
        self._capture.close()

    def _feature(self, item: WorkItem) -> Feature:
        feature = self._features.get(item.feature.path)
        if feature is None:
            feature = self._features[item.feature.path] = Feature(item.feature)
            try:
                HOOKS.call("before", "each_feature", feature)
            except Exception as error:
                self._feature_errors[item.feature.path] = _hook_error("before.each_feature", error)
        return feature

    # -- one scenario ------------------------------------------------------------------
    def run(self, item: WorkItem) -> ScenarioResult:
        token = _context.set((self.worker_id, item.scenario_id))
        _fallback[0] = (self.worker_id, item.scenario_id)
        root = logging.getLogger()
        self._log_stream.seek(0)
        self._log_stream.truncate()
        self.notes = []
        root.addHandler(self._log_handler)
        started_at = time.time()
        start = time.perf_counter()
        scenario_obj: Scenario | None = None
        error: tuple[str, str] | None = None
        artifacts: list[str] = []
        self._capture.start()
        try:
            scenario_obj, error, artifacts = self._run_scenario(item)
        finally:
            stdout, stderr = self._capture.stop()
            root.removeHandler(self._log_handler)
            _context.reset(token)
            _fallback[0] = (self.worker_id, "")
        duration = time.perf_counter() - start
        steps = tuple(_step_result(step) for step in scenario_obj.all_steps) if scenario_obj else ()
        if error is not None:
            status = m.ERRORED
        else:
            status = _scenario_status(steps)
        result = ScenarioResult(
            scenario_id=item.scenario_id,
            status=status,
            steps=steps,
            duration=duration,
            started_at=started_at,
            worker_id=self.worker_id,
            stdout=stdout,
            stderr=stderr,
            log=self._log_stream.getvalue(),
            error=error[0] if error else "",
            error_traceback=error[1] if error else "",
            artifacts=tuple(artifacts),
            notes=tuple(self.notes),
        )
        self._apps.record(item, result)
        return result

    def _run_scenario(self, item: WorkItem) -> tuple[Scenario, tuple[str, str] | None, list[str]]:
        """The scenario's hooks and steps, in lettuce's order: the scenario, its error (a
        hook's), the files it attached."""
        with scenario_namespace() as namespace:
            app_error = self._apps.enter(item)  # before the feature's hooks, as in lettuce
            feature = self._feature(item)
            scenario_obj = Scenario(item, feature)
            scenario_obj.worker_id = self.worker_id
            error = _hook_error("before.each_app", app_error) if app_error else None
            error = error or self._feature_errors.get(item.feature.path)
            error = error or self._call_scenario_hook("before", "each_scenario", scenario_obj)
            if item.is_outline_row and error is None:
                error = self._call_scenario_hook(
                    "before", "each_outline", scenario_obj, scenario_obj.row
                )
            self._run_steps(scenario_obj, blocked=error is not None)
            if item.is_outline_row:
                reasons = [s.why for s in scenario_obj.all_steps if s.why is not None]
                error = error or self._call_scenario_hook(
                    "after", "outline", scenario_obj, item.outline_index, scenario_obj.row, reasons
                )
                error = error or self._call_scenario_hook(
                    "after", "each_outline", scenario_obj, scenario_obj.row
                )
            error = self._call_scenario_hook("after", "each_scenario", scenario_obj) or error
            return scenario_obj, error, list(namespace._artifacts)

    def _call_scenario_hook(self, when: str, point: str, *args: Any) -> tuple[str, str] | None:
        try:
            HOOKS.call(when, point, *args)
        except Exception as error:  # reported as the scenario's error, never swallowed
            return _hook_error(f"{when}.{point}", error)
        return None

    def _run_steps(self, scenario_obj: Scenario, *, blocked: bool) -> None:
        background = scenario_obj.background
        background_steps = scenario_obj.background_steps
        if background_steps and not blocked and background is not None:
            if self._call_scenario_hook("before", "each_background", background):
                blocked = True
        for index, step_obj in enumerate(scenario_obj.all_steps):
            if not self._run_step(step_obj, blocked=blocked):
                blocked = True
            if background_steps and index == len(background_steps) - 1 and background is not None:
                results = [s.status == m.PASSED for s in background_steps]
                hook_error = self._call_scenario_hook(
                    "after", "each_background", background, results
                )
                if hook_error:
                    scenario_obj.error = RuntimeError(hook_error[0])
                    blocked = True

    def _run_step(self, step_obj: Step, *, blocked: bool) -> bool:
        """Run one step; False when the steps after it must be skipped.

        The each_step hooks run as lettuce ran them: around every step that ran or was
        skipped; after (not before) a step that is undefined or ambiguous.
        """
        try:
            match = STEPS.find_match(step_obj.keyword, step_obj.text)
        except AmbiguousMatch as ambiguity:
            step_obj.status = m.AMBIGUOUS
            step_obj.candidates = tuple(c.describe() for c in ambiguity.candidates)
            step_obj.error_text = f"ambiguous step: {len(ambiguity.candidates)} definitions match"
            self._step_hooks("after", step_obj)
            return False
        if match is None:
            step_obj.status = m.UNDEFINED
            self._step_hooks("after", step_obj)
            return False
        definition = match.definition
        step_obj.defined_at = Location(definition.file, definition.line, definition.function)
        if blocked:
            step_obj.status = m.SKIPPED
            self._step_hooks("before", step_obj)
            self._step_hooks("after", step_obj)
            return False
        step_obj.runner = self._behave_as
        start = time.perf_counter()
        self.current_step = (step_obj, start, threading.get_ident())
        failure: Exception | None = None
        try:
            if self._step_hooks("before", step_obj):
                match.definition.function(step_obj, *match.args, **match.kwargs)
                step_obj.status = m.PASSED
        except Exception as error:  # any exception from a step means the step failed
            self._step_failed(step_obj, error)
            failure = error
        finally:
            step_obj.duration = time.perf_counter() - start
            self.current_step = None
        if failure is not None and self.post_mortem:
            # after the step's clock and the slow-step watchdog stopped: time in pdb is
            # the user's, not the step's
            self._debug(step_obj, failure)
        self._step_hooks("after", step_obj)
        return step_obj.status == m.PASSED

    def _step_hooks(self, when: str, step_obj: Step) -> bool:
        """``each_step`` and ``step_output`` hooks (``before``: in that order, ``after``:
        reversed); an exception fails the step (the first error is kept). False if one raised."""
        points = ("each_step", "step_output") if when == "before" else ("step_output", "each_step")
        try:
            for point in points:
                HOOKS.call(when, point, step_obj)
        except Exception as error:  # a user's hook may raise anything
            self._step_failed(step_obj, error)
            return False
        return True

    def _debug(self, step_obj: Step, error: Exception) -> None:
        """``--pdb``: the step's traceback, then pdb post-mortem in its frames, on the real
        terminal. Post-mortem, not lettuce's re-run of the step under pdb: running a step
        twice repeats what it did (an order placed, a row inserted)."""
        import pdb

        where = step_obj.described_at
        why = step_obj.why.traceback if step_obj.why is not None else describe_error(error)
        with self._capture.suspended():
            print(f"\n--pdb: {step_obj.sentence}  # {where}\n{why}", flush=True)
            pdb.post_mortem(error.__traceback__)

    @staticmethod
    def _step_failed(step_obj: Step, error: BaseException) -> None:
        if step_obj.status != m.FAILED:
            step_obj.status = m.FAILED
            step_obj.why = ReasonToFail(error, format_user_traceback(error))

    def _behave_as(self, parent: Step, text: str) -> None:
        """``step.behave_as``: run each line as a step; raise AssertionError on the first failure."""
        sub_steps: list[StepData] = []
        for raw in text.split("\n"):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("|"):
                if not sub_steps:
                    raise AssertionError(f"behave_as: a table must follow a step line: {line!r}")
                last = sub_steps[-1]
                cells = tuple(cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1])
                sub_steps[-1] = StepData(
                    last.keyword, last.text, last.line, table=last.table + (cells,)
                )
                continue
            word, _, rest = line.partition(" ")
            if word.lower() in STEP_KEYWORDS and rest:
                sub_steps.append(StepData(f"{word} ", rest.strip(), parent.data.line))
            else:
                sub_steps.append(StepData("", line, parent.data.line))
        for data in sub_steps:
            try:
                match = STEPS.find_match(data.keyword, data.text)
            except AmbiguousMatch as ambiguity:
                raise AssertionError(str(ambiguity)) from None
            if match is None:
                raise AssertionError(f"Undefined step: {data.sentence}")
            sub = Step(data, parent._owner)
            sub.runner = self._behave_as
            try:
                match.definition.function(sub, *match.args, **match.kwargs)
            except Exception as error:
                raise AssertionError(f"{data.sentence}: {describe_error(error)}") from error


def _step_result(step_obj: Step) -> StepResult:
    why = step_obj.why
    location = ""
    if step_obj.defined_at is not None:
        location = f"{step_obj.defined_at.file}:{step_obj.defined_at.line}"
    return StepResult(
        keyword=step_obj.keyword,
        text=step_obj.text,
        line=step_obj.data.line,
        status=step_obj.status or m.SKIPPED,
        duration=step_obj.duration,
        definition=location,
        error=describe_error(why.exception) if why else step_obj.error_text,
        traceback=why.traceback if why else "",
        in_background=step_obj.data.in_background,
        table=step_obj.data.table,
        doc_string=step_obj.data.doc_string,
        candidates=step_obj.candidates,
    )


def _scenario_status(steps: tuple[StepResult, ...]) -> str:
    statuses = {step.status for step in steps}
    for status in (m.FAILED, m.AMBIGUOUS, m.UNDEFINED):
        if status in statuses:
            return status
    return m.PASSED


def set_worker_world(worker_id: int, port_number: int, artifacts_dir: str) -> None:
    """The attributes pbdd gives ``world`` in every process that runs scenarios."""
    world.worker_id = worker_id
    world.port_number = port_number
    world.artifacts_dir = artifacts_dir


__all__ = ["Batch", "format_user_traceback", "hook_failure", "set_worker_world"]
