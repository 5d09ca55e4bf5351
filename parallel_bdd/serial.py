"""``-p 1``: the worker's code (``runner.Batch``) in the parent process.

Called by ``session.py``. Adds what the pool does for workers, done in-process: Ctrl-C once
finishes the running scenario, twice stops at once; ``--timeout`` raises inside the
hung step (so its traceback shows where it hung) and reports the scenario as errored;
``--retry``/``@retry(N)`` run a failed scenario again (the pool's rule,
``dispatch.Rules.retry_after``); ``--slow-step-warning``. Imports
nothing from reporting: it reports through callbacks.
"""

from __future__ import annotations

import dataclasses
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .dispatch import Rules
from .interrupts import Interrupts
from .messages import BatchSpan, HookFailure, ScenarioResult, WorkItem
from .runner import Batch, set_worker_world
from .worker import SlowStepWatchdog


class ScenarioTimeout(Exception):
    """Raised inside a step that runs past ``--timeout`` in a serial run."""


@dataclass
class SerialOutcome:
    hook_failures: list[HookFailure] = field(default_factory=list)
    interrupted: bool = False
    batch_spans: list[BatchSpan] = field(default_factory=list)  # for the HTML timeline


def run_serial(
    items: Sequence[WorkItem],
    *,
    base_port: int,
    artifacts_dir: str,
    timeout: float = 0.0,
    retries: int = 0,
    failfast: bool = False,
    slow_step_warning: float = 0.0,
    post_mortem: bool = False,
    on_result: Callable[[ScenarioResult], None],
    on_notice: Callable[[str], None],
) -> SerialOutcome:
    set_worker_world(0, base_port, artifacts_dir)
    interrupts = Interrupts(raise_after=1)  # the second press stops at once
    batch = Batch(0, capture_fds=True, post_mortem=post_mortem)
    run = _SerialRun(batch, interrupts, timeout, Rules(retries=retries), on_result, on_notice)
    interrupts.install()
    previous_alarm = signal.signal(signal.SIGALRM, run.on_alarm) if timeout else None
    watchdog = SlowStepWatchdog(batch, slow_step_warning)
    try:
        if batch.start():
            for item in items:
                if interrupts.presses:
                    break
                result = run.scenario(item)
                if failfast and result.failed:
                    on_notice("--failfast: a scenario failed; stopping")
                    break
        batch.finish()
    except KeyboardInterrupt:
        interrupts.presses = max(interrupts.presses, 2)
    finally:
        watchdog.stop()
        interrupts.restore()
        if previous_alarm is not None:
            signal.signal(signal.SIGALRM, previous_alarm)
    return SerialOutcome(
        list(batch.failures), interrupted=interrupts.presses > 0, batch_spans=list(batch.spans)
    )


class _SerialRun:
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
