"""``-p 1``: the worker's code (``runner.Batch``) in the parent process.

Called by ``session.py``. Adds what the pool does for workers, done in-process: Ctrl-C once
finishes the running scenario, twice stops at once; ``--timeout`` raises inside the
hung step (so its traceback shows where it hung) and reports the scenario as errored;
``--retry``/``@retry(N)`` run a failed scenario again; ``--slow-step-warning``. Imports
nothing from reporting: it reports through callbacks.
"""

from __future__ import annotations

import dataclasses
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import messages as m
from .interrupts import Interrupts
from .messages import HookFailure, ScenarioResult, WorkItem
from .runner import Batch, set_worker_world
from .scheduler import retries_for
from .worker import SlowStepWatchdog


class ScenarioTimeout(Exception):
    """Raised inside a step that runs past ``--timeout`` in a serial run."""


@dataclass
class SerialOutcome:
    hook_failures: list[HookFailure] = field(default_factory=list)
    interrupted: bool = False


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
    outcome = SerialOutcome()
    interrupts = Interrupts(raise_after=1)  # the second press stops at once
    fired = [False]

    def on_alarm(signum: int, frame: Any) -> None:
        fired[0] = True
        raise ScenarioTimeout(f"the scenario ran past --timeout {timeout:g} s")

    interrupts.install()
    previous_alarm = signal.signal(signal.SIGALRM, on_alarm) if timeout else None
    batch = Batch(0, capture_fds=True, post_mortem=post_mortem)
    watchdog = SlowStepWatchdog(batch, slow_step_warning)
    try:
        if batch.start():
            for item in items:
                if interrupts.presses:
                    break
                attempt = 1
                while True:
                    fired[0] = False
                    if timeout:
                        signal.setitimer(signal.ITIMER_REAL, timeout)
                    try:
                        result = batch.run(item)
                    finally:
                        if timeout:
                            signal.setitimer(signal.ITIMER_REAL, 0)
                    if fired[0]:
                        result = _timed_out(result, timeout)
                    if attempt > 1:
                        result = dataclasses.replace(result, attempt=attempt)
                    on_result(result)
                    if interrupts.presses == 1:
                        on_notice(
                            "Interrupted: stopping after the running scenario "
                            "(press Ctrl-C again to stop at once)"
                        )
                    again = (
                        result.status in (m.FAILED, m.ERRORED, m.AMBIGUOUS)
                        and attempt <= retries_for(item, retries)
                        and not interrupts.presses
                    )
                    if not again:
                        break
                    attempt += 1
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
    outcome.interrupted = interrupts.presses > 0
    outcome.hook_failures = list(batch.failures)
    return outcome


def _timed_out(result: ScenarioResult, timeout: float) -> ScenarioResult:
    step = next((s for s in result.steps if "ScenarioTimeout" in s.traceback), None)
    where = step.traceback if step is not None else result.error_traceback
    return dataclasses.replace(
        result,
        status=m.ERRORED,
        error=f"timed out after {timeout:g} s (--timeout)",
        error_traceback=f"Where the scenario was when the timeout fired:\n{where}",
    )
