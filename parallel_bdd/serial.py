"""``-p 1``: the worker's code (``runner.Batch``) in the parent process.

Called by ``session.py``. Adds what the pool does for workers, done in-process: Ctrl-C once
finishes the running scenario, twice stops at once; ``--timeout`` raises inside the
hung step (so its traceback shows where it hung) and reports the scenario as errored;
``--retry``/``@retry(N)`` run a failed scenario again (the pool's rule,
``dispatch.Rules.retry_after``); ``--slow-step-warning``. Imports
nothing from reporting: it reports through callbacks.

``in_this_process`` sets this up for a run; ``serial_dispatch.py`` uses it too, for a
``-p 1`` machine of a shared queue.
"""

from __future__ import annotations

import dataclasses
import signal
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .dispatch import Rules
from .errors import QueueError
from .interrupts import Interrupts
from .messages import BatchSpan, HookFailure, ScenarioResult, WorkItem
from .runner import Batch, set_worker_world
from .worker import SlowStepWatchdog


class ScenarioTimeout(Exception):
    """Raised inside a step that runs past ``--timeout`` in a serial run."""


@dataclass(frozen=True)
class SerialSettings:
    """The run's options as a run in this process reads them."""

    base_port: int
    artifacts_dir: str
    timeout: float = 0.0
    retries: int = 0
    failfast: bool = False
    slow_step_warning: float = 0.0
    post_mortem: bool = False


@dataclass
class SerialOutcome:
    hook_failures: list[HookFailure] = field(default_factory=list)
    interrupted: bool = False
    batch_spans: list[BatchSpan] = field(default_factory=list)  # for the HTML timeline
    # a run on a shared queue: what it was handed and never finished, and why it stopped
    not_run: list[str] = field(default_factory=list)
    error: QueueError | None = None
    before_batch_failed: bool = False


def run_serial(
    items: Sequence[WorkItem],
    settings: SerialSettings,
    *,
    on_result: Callable[[ScenarioResult], None],
    on_notice: Callable[[str], None],
) -> SerialOutcome:
    with in_this_process(settings, on_result, on_notice) as run:
        batch, interrupts = run.batch, run.interrupts
        try:
            if batch.start():
                for item in items:
                    if interrupts.presses:
                        break
                    result = run.scenario(item)
                    if settings.failfast and result.failed:
                        on_notice("--failfast: a scenario failed; stopping")
                        break
            batch.finish()
        except KeyboardInterrupt:
            interrupts.presses = max(interrupts.presses, 2)
    return SerialOutcome(
        list(batch.failures), interrupted=interrupts.presses > 0, batch_spans=list(batch.spans)
    )


@contextmanager
def in_this_process(
    settings: SerialSettings,
    on_result: Callable[[ScenarioResult], None],
    on_notice: Callable[[str], None],
    on_first_press: Callable[[], None] | None = None,
) -> Iterator[SerialRun]:
    """This process as worker 0: ``world``, the Ctrl-C handler (a second press raises
    KeyboardInterrupt), the ``--timeout`` alarm and the slow-step watchdog, for the run
    inside the ``with``; everything is put back afterwards."""
    set_worker_world(0, settings.base_port, settings.artifacts_dir)
    interrupts = Interrupts(raise_after=1, on_first=on_first_press)
    batch = Batch(0, capture_fds=True, post_mortem=settings.post_mortem)
    rules = Rules(retries=settings.retries)
    run = SerialRun(batch, interrupts, settings.timeout, rules, on_result, on_notice)
    interrupts.install()
    timeout = settings.timeout
    previous_alarm = signal.signal(signal.SIGALRM, run.on_alarm) if timeout else None
    watchdog = SlowStepWatchdog(batch, settings.slow_step_warning)
    try:
        yield run
    finally:
        watchdog.stop()
        interrupts.restore()
        if previous_alarm is not None:
            signal.signal(signal.SIGALRM, previous_alarm)


class SerialRun:
    """One scenario at a time in this process, with its attempts and its ``--timeout``."""

    def __init__(
        self,
        batch: Batch,
        interrupts: Interrupts,
        timeout: float,
        rules: Rules,
        on_result: Callable[[ScenarioResult], None],
        on_notice: Callable[[str], None],
    ) -> None:
        self.batch, self.interrupts, self.timeout, self.rules = batch, interrupts, timeout, rules
        self.on_result, self.on_notice = on_result, on_notice
        self.fired = False

    def on_alarm(self, signum: int, frame: Any) -> None:
        self.fired = True
        raise ScenarioTimeout(f"the scenario ran past --timeout {self.timeout:g} s")

    def scenario(self, item: WorkItem) -> ScenarioResult:
        """Run ``item`` until an attempt is final (the pool's retry rule); its last record."""
        attempt = 1
        while True:
            result = self.attempt(item)
            if attempt > 1:
                result = dataclasses.replace(result, attempt=attempt)
            self.on_result(result)
            if self.interrupts.presses == 1:
                self.on_notice(
                    "Interrupted: stopping after the running scenario "
                    "(press Ctrl-C again to stop at once)"
                )
            if self.interrupts.presses or not self.rules.retry_after(item, result.status, attempt):
                return result
            attempt += 1

    def attempt(self, item: WorkItem) -> ScenarioResult:
        """One run of ``item``: its record (errored if ``--timeout`` fired)."""
        self.fired = False
        if self.timeout:
            signal.setitimer(signal.ITIMER_REAL, self.timeout)
        try:
            result = self.batch.run(item)
        finally:
            if self.timeout:
                signal.setitimer(signal.ITIMER_REAL, 0)
        return _timed_out(result, self.timeout) if self.fired else result


def _timed_out(result: ScenarioResult, timeout: float) -> ScenarioResult:
    step = next((s for s in result.steps if "ScenarioTimeout" in s.traceback), None)
    where = step.traceback if step is not None else result.error_traceback
    return result.turned_errored(
        f"timed out after {timeout:g} s (--timeout)",
        f"Where the scenario was when the timeout fired:\n{where}",
    )
