"""The worker pool: a SyncManager's queues, worker processes, crashes, timeouts, Ctrl-C.

Called by ``cli.py`` in the parent for ``-p N`` with N > 1. Starts the workers
(``worker.main``), feeds them the scheduler's order through a shared queue (dynamic pull),
and turns everything that can happen to a worker into result records: a worker that dies
mid-scenario makes that scenario *errored* and is replaced; a scenario over ``--timeout``
gets its worker's stack in the report before the worker is killed and replaced.

Ctrl-C: the parent's SIGINT handler only records the press (an exception unwinding
through a manager proxy call would leave the proxy out of step and lose queue items).
The first press stops dispatch and lets running scenarios finish within the grace period;
the second press (or the grace running out) kills every worker's process group.

Imports nothing from reporting; it reports progress through a callback.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import queue
import signal
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.managers import SyncManager
from pathlib import Path
from typing import Any

from . import messages as m
from .messages import HookFailure, ScenarioResult, WorkerEvent, WorkItem
from .worker import WorkerSpec, watch_parent
from .worker import main as worker_main

POLL_SECONDS = 0.1
PR_SET_PDEATHSIG = 1


def _manager_initializer(parent_pid: int) -> None:
    """Runs in the SyncManager's server process: survive Ctrl-C, die with the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the watchdog thread below still covers it
    watch_parent(parent_pid, lambda: os._exit(1))


@dataclass
class PoolOutcome:
    results: list[ScenarioResult] = field(default_factory=list)
    hook_failures: list[HookFailure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    not_run: list[str] = field(default_factory=list)
    interrupted: bool = False
    killed: bool = False
    workers_started: int = 0
    all_workers_failed: bool = False


@dataclass
class _Slot:
    worker_id: int
    process: Any = None
    pid: int = 0
    running: str = ""  # scenario id
    running_since: float = 0.0
    done: bool = False
    retired: bool = False  # before.batch failed: do not restart
    ready: bool = False
    timed_out: bool = False


class Interrupts:
    """Counts Ctrl-C presses; the handler never raises (see module docstring)."""

    def __init__(self) -> None:
        self.presses = 0
        self.first_at = 0.0
        self._previous: Any = None

    def _handler(self, signum: int, frame: Any) -> None:
        self.presses += 1
        if self.presses == 1:
            self.first_at = time.monotonic()

    def __enter__(self) -> Interrupts:
        try:
            self._previous = signal.signal(signal.SIGINT, self._handler)
        except ValueError:  # not the main thread (embedded use): no Ctrl-C handling
            self._previous = None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


class WorkerPool:
    def __init__(
        self,
        *,
        processes: int,
        spec_for: Callable[[int, Path], WorkerSpec],
        start_method: str = "spawn",
        timeout: float = 0.0,
        grace: float = 10.0,
        failfast: bool = False,
        on_result: Callable[[ScenarioResult], None] | None = None,
        on_notice: Callable[[str], None] | None = None,
        interrupts: Interrupts | None = None,
    ) -> None:
        self.processes = processes
        self.spec_for = spec_for
        self.context = multiprocessing.get_context(start_method)
        self.timeout = timeout
        self.grace = grace
        self.failfast = failfast
        self.on_result = on_result or (lambda result: None)
        self.on_notice = on_notice or (lambda text: None)
        self.interrupts = interrupts or Interrupts()
        self.run_dir = Path(tempfile.mkdtemp(prefix="pbdd-run-"))

    # -- process management ------------------------------------------------------------
    def _start_worker(self, slot: _Slot, work_queue: Any, event_queue: Any) -> None:
        spec = self.spec_for(slot.worker_id, self.run_dir)
        process = self.context.Process(
            target=worker_main,
            args=(spec, work_queue, event_queue),
            name=f"pbdd-worker-{slot.worker_id}",
        )
        process.start()
        slot.process, slot.pid = process, process.pid
        slot.running, slot.done, slot.ready, slot.timed_out = "", False, False, False

    @staticmethod
    def _kill_group(slot: _Slot, sig: int = signal.SIGKILL) -> None:
        if not slot.pid:
            return
        try:
            os.killpg(slot.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            os.kill(slot.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def _stack_of(self, slot: _Slot) -> str:
        path = self.run_dir / f"worker-{slot.worker_id}.stack"
        try:
            os.kill(slot.pid, signal.SIGUSR1)
        except ProcessLookupError:
            return ""
        deadline = time.monotonic() + 2.0
        text = ""
        while time.monotonic() < deadline:
            time.sleep(0.1)
            text = path.read_text(errors="replace") if path.exists() else ""
            if text.strip():
                time.sleep(0.1)
                text = path.read_text(errors="replace")
                break
        return text.strip()

    # -- the run -----------------------------------------------------------------------
    def run(self, items: Sequence[WorkItem]) -> PoolOutcome:
        outcome = PoolOutcome()
        if not items:
            return outcome
        processes = max(1, min(self.processes, len(items)))
        manager = SyncManager(ctx=self.context)
        manager.start(_manager_initializer, (os.getpid(),))
        try:
            return self._run(manager, items, processes, outcome)
        finally:
            manager.shutdown()

    def _run(
        self, manager: SyncManager, items: Sequence[WorkItem], processes: int, outcome: PoolOutcome
    ) -> PoolOutcome:
        work_queue: Any = manager.Queue()
        event_queue: Any = manager.Queue()
        for item in items:
            work_queue.put(item)
        for _ in range(processes):
            work_queue.put(None)
        by_id = {item.scenario_id: item for item in items}
        remaining = set(by_id)
        slots = [_Slot(worker_id) for worker_id in range(processes)]
        for slot in slots:
            self._start_worker(slot, work_queue, event_queue)
            outcome.workers_started += 1
        stopping = False  # dispatch stopped (Ctrl-C or --failfast)

        def finish(result: ScenarioResult) -> None:
            if result.scenario_id not in remaining:
                return
            remaining.discard(result.scenario_id)
            outcome.results.append(result)
            self.on_result(result)
            if self.failfast and result.failed:
                stop_dispatch("--failfast: a scenario failed; letting running scenarios finish")

        def stop_dispatch(reason: str) -> None:
            nonlocal stopping
            if stopping:
                return
            stopping = True
            self.on_notice(reason)
            drained = 0
            while True:
                try:
                    item = work_queue.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    drained += 1
            for slot in slots:
                if not slot.done:
                    work_queue.put(None)

        def errored(slot: _Slot, reason: str, detail: str = "") -> None:
            scenario_id = slot.running
            slot.running = ""
            if not scenario_id:
                return
            finish(
                ScenarioResult(
                    scenario_id=scenario_id,
                    status=m.ERRORED,
                    duration=time.monotonic() - slot.running_since,
                    started_at=time.time() - (time.monotonic() - slot.running_since),
                    worker_id=slot.worker_id,
                    error=reason,
                    error_traceback=detail,
                )
            )

        def replace(slot: _Slot) -> None:
            if stopping or slot.retired or not (remaining - self._running_ids(slots)):
                slot.done = True
                return
            self._kill_group(slot)
            self._start_worker(slot, work_queue, event_queue)
            outcome.workers_started += 1

        with self.interrupts:
            while any(not slot.done for slot in slots):
                if self.interrupts.presses >= 2 or (
                    self.interrupts.presses == 1
                    and time.monotonic() - self.interrupts.first_at > self.grace
                ):
                    outcome.killed = True
                    for slot in slots:
                        self._kill_group(slot)
                        slot.running = ""
                        slot.done = True
                    break
                if self.interrupts.presses == 1 and not outcome.interrupted:
                    outcome.interrupted = True
                    stop_dispatch(
                        "Interrupted: finishing running scenarios "
                        f"(up to {self.grace:g} s; press Ctrl-C again to stop now)"
                    )
                try:
                    event: WorkerEvent = event_queue.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    event = None  # type: ignore[assignment]
                except (EOFError, ConnectionError, BrokenPipeError):
                    break  # the manager is gone (killed with us): nothing more will arrive
                if event is not None:
                    self._handle(event, slots, outcome, finish, errored, replace)
                    continue
                now = time.monotonic()
                for slot in slots:
                    if slot.done:
                        continue
                    if slot.process is not None and not slot.process.is_alive():
                        code = slot.process.exitcode
                        cause = (
                            f"killed by signal {signal.Signals(-code).name}"
                            if code is not None and code < 0
                            else f"exited with code {code}"
                        )
                        if slot.running:
                            name = by_id[slot.running].name
                            self.on_notice(
                                f"worker {slot.worker_id} died ({cause}) while running "
                                f"{name!r}; starting a fresh worker"
                            )
                            errored(
                                slot,
                                f"worker {slot.worker_id} died ({cause})",
                                self._log_tail(slot),
                            )
                        replace(slot)
                    elif self.timeout and slot.running and now - slot.running_since > self.timeout:
                        stack = self._stack_of(slot)
                        self.on_notice(
                            f"{by_id[slot.running].name!r} exceeded --timeout {self.timeout:g} s "
                            f"on worker {slot.worker_id}; killing the worker"
                        )
                        errored(
                            slot,
                            f"timed out after {self.timeout:g} s (--timeout)",
                            f"Stack of worker {slot.worker_id} when the timeout fired:\n{stack}",
                        )
                        self._kill_group(slot)
                        if slot.process is not None:
                            slot.process.join(5)
                        replace(slot)
            for slot in slots:
                if slot.process is not None:
                    slot.process.join(1 if outcome.killed else 10)
                    if slot.process.is_alive():
                        self._kill_group(slot)
                        slot.process.join(2)
                # whatever a worker started (servers, browsers) goes with it
                self._kill_group(slot, signal.SIGKILL)
        outcome.not_run = [item.scenario_id for item in items if item.scenario_id in remaining]
        outcome.all_workers_failed = all(slot.retired for slot in slots)
        return outcome

    @staticmethod
    def _running_ids(slots: Sequence[_Slot]) -> set[str]:
        return {slot.running for slot in slots if slot.running}

    def _log_tail(self, slot: _Slot, lines: int = 20) -> str:
        path = self.run_dir / f"worker-{slot.worker_id}.log"
        try:
            text = path.read_text(errors="replace")
        except OSError:
            return ""
        tail = text.strip().split("\n")[-lines:]
        return "Last output of the worker:\n" + "\n".join(tail) if text.strip() else ""

    def _handle(
        self,
        event: WorkerEvent,
        slots: Sequence[_Slot],
        outcome: PoolOutcome,
        finish: Callable[[ScenarioResult], None],
        errored: Callable[[_Slot, str, str], None],
        replace: Callable[[_Slot], None],
    ) -> None:
        slot = slots[event.worker_id]
        if event.pid and event.pid != slot.pid:
            return  # a late event from a worker that was already replaced
        if event.kind == "ready":
            slot.ready = True
        elif event.kind == "started":
            if slot.running:
                errored(slot, "the runner lost this scenario's result", "")
            slot.running = event.scenario_id
            slot.running_since = time.monotonic()
        elif event.kind == "result" and event.result is not None:
            slot.running = ""
            finish(event.result)
        elif event.kind == "hook_failure" and event.failure is not None:
            outcome.hook_failures.append(event.failure)
            if event.failure.hook in ("before.batch", "import"):
                slot.retired = True
                self.on_notice(
                    f"worker {slot.worker_id} retired: {event.failure.hook} failed: "
                    f"{event.failure.error}"
                )
        elif event.kind == "recycle":
            if slot.process is not None:
                slot.process.join(30)
            replace(slot)
        elif event.kind == "done":
            if slot.running:
                errored(slot, "the worker stopped before the scenario ended", "")
            if slot.process is not None:
                slot.process.join(30)
            slot.done = True
