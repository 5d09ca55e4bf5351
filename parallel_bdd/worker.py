"""The only code that runs inside a worker process: take scenarios, run them, send results.

Started by ``pool/worker_process.py`` (``multiprocessing`` with an explicit start
method). A worker is the leader of its own process group, so the terminal's Ctrl-C
reaches the parent alone and the parent can kill a worker together with every server and
browser it started (``process_tree``). It watches its parent and kills its own tree if
the parent disappears (no orphans).

``SlowStepWatchdog`` is also used by ``serial.py`` for a serial run (``-p 1``), which runs
the same ``Batch`` in the parent.

Imports nothing from cli, session or reporting.
"""

from __future__ import annotations

import faulthandler
import os
import pickle
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import coverage_support
from . import messages as m
from .board import Board
from .coverage_support import CoverageSettings
from .discovery import import_suite
from .errors import PbddError
from .handover import WorldHandover
from .lifeline import watch_parent
from .messages import HookFailure, ScenarioResult, WorkerEvent, WorkItem
from .process_tree import kill_own_tree
from .runner import Batch, describe_error, format_user_traceback, set_worker_world
from .world import world

# What a call on a manager proxy raises once the manager process is gone.
MANAGER_GONE = (EOFError, ConnectionError, BrokenPipeError, OSError)
# What pickling something that is not plain data raises.
_UNPICKLABLE = (pickle.PicklingError, TypeError, AttributeError, RecursionError)


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker needs, as plain data (it is pickled for the spawn start method)."""

    worker_id: int
    port_number: int
    parent_pid: int
    cwd: str
    sys_path: tuple[str, ...]
    step_files: tuple[str, ...]
    terrain: str | None
    artifacts_dir: str
    log_path: str
    stack_path: str
    world_state: WorldHandover = field(default_factory=lambda: WorldHandover({}))
    max_scenarios: int = 0  # 0: no limit; else exit after N and let the pool start a fresh one
    slow_step_warning: float = 0.0  # seconds; 0: no warning
    coverage: CoverageSettings | None = None  # --coverage: record in this worker too


def _ignore_sigint(signum: int, frame: Any) -> None:
    """A Python-level no-op rather than SIG_IGN: programs a step starts get the default back."""


def _detach_from_terminal() -> None:
    """Leave the parent's process group before SIGINT is let through.

    The pool starts workers with SIGINT blocked (the mask survives exec), so a Ctrl-C
    that arrives while this interpreter is still starting stays pending instead of
    killing it with a KeyboardInterrupt; once this process leads its own group the
    terminal cannot reach it any more and the pending signal is harmless.
    """
    try:
        os.setsid()
    except OSError:
        pass  # already a group leader
    signal.signal(signal.SIGINT, _ignore_sigint)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _redirect_output(log_path: str) -> None:
    """Send the worker's own fd 1/2 to a log file: nothing reaches the user's terminal."""
    # a fresh worker in the same slot starts a fresh log: a crash report quotes only its own
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _safe_describe(error: BaseException) -> str:
    try:
        return describe_error(error)
    except Exception:  # a user's __str__ may raise too
        return type(error).__name__


def _safe_traceback(error: BaseException) -> str:
    try:
        return format_user_traceback(error)
    except Exception:
        return ""


class _Channel:
    """Events to the parent; never raises (a dead manager means the parent is going away)."""

    def __init__(self, queues: tuple[Any, Any], worker_id: int) -> None:
        self.event_queue = queues[1]  # (work queue, event queue)
        self.worker_id = worker_id
        self.broken = False

    def send(self, kind: str, **fields: Any) -> None:
        if self.broken:
            return
        event = WorkerEvent(kind=kind, worker_id=self.worker_id, pid=os.getpid(), **fields)
        try:
            self.event_queue.put(event)
        except _UNPICKLABLE as error:  # events are plain data: a bug, but say so
            reason = f"pbdd could not send this {kind} to the parent: {_safe_describe(error)}"
            self.send("warning", message=reason)
        except MANAGER_GONE:
            self.broken = True

    def send_results(self, results: tuple[ScenarioResult, ...]) -> None:
        try:
            packed = m.pack(results)
        except _UNPICKLABLE as error:
            # Results are plain data, so this means a bug; still, never lose the scenario.
            self._send_unpicklable(results, error)
            return
        self.send("results", packed_results=packed)

    def _send_unpicklable(self, results: tuple[ScenarioResult, ...], error: BaseException) -> None:
        if len(results) > 1:
            for result in results:  # one at a time: only the bad one is replaced
                self.send_results((result,))
            return
        bad = results[0]
        reason = f"pbdd could not send this result to the parent: {_safe_describe(error)}"
        self.send_results(
            (
                ScenarioResult.errored(
                    str(bad.scenario_id),
                    reason,
                    duration=float(bad.duration),
                    started_at=float(bad.started_at),
                    worker_id=self.worker_id,
                ),
            )
        )


def _format_stack(frame: Any) -> str:
    """A step's stack: the frames below pbdd's runner (the step function and what it called)."""
    from .runner import _is_runner_frame

    if frame is None:
        return "  (the step has just ended)"
    entries = traceback.extract_stack(frame)
    runner_frames = [i for i, entry in enumerate(entries) if _is_runner_frame(entry.filename)]
    if runner_frames:
        entries = entries[runner_frames[-1] + 1 :]
    return "".join(traceback.format_list(entries)).rstrip()


class SlowStepWatchdog:
    """``--slow-step-warning``: one warning, with the stack, for a step that runs too long.

    A daemon thread polls ``Batch.current_step`` (set by the runner while a step function
    runs). The warning goes to ``on_warning`` right away (the pool prints it as a notice
    even if ``--timeout`` kills the worker later) and into the scenario's ``notes``. With
    no callback it is written to the terminal through a copy of fd 2 taken now, before
    the runner starts capturing the scenario's output.
    """

    def __init__(
        self,
        batch: Batch,
        seconds: float,
        on_warning: Callable[[str], None] | None = None,
    ) -> None:
        self.batch = batch
        self.seconds = seconds
        self._stop = threading.Event()
        self._warned: Any = None
        self._terminal_fd = -1
        self.on_warning = on_warning or self._to_terminal
        if seconds > 0:
            if on_warning is None:
                self._terminal_fd = os.dup(2)
            threading.Thread(target=self._watch, name="pbdd-slow-step", daemon=True).start()

    def _to_terminal(self, text: str) -> None:
        try:
            os.write(self._terminal_fd, (text + "\n").encode("utf-8", "replace"))
        except OSError:
            pass

    def _watch(self) -> None:
        interval = min(0.1, self.seconds / 4)
        while not self._stop.wait(interval):
            current = getattr(self.batch, "current_step", None)
            if current is None or current is self._warned:
                continue
            step_obj, started, thread_id = current
            elapsed = time.perf_counter() - started
            if elapsed < self.seconds:
                continue
            self._warned = current
            stack = _format_stack(sys._current_frames().get(thread_id))
            owner = getattr(step_obj, "_owner", None)
            where = f" in {owner.name!r}" if owner is not None else ""
            worker = f" on worker {self.batch.worker_id}" if self.batch.worker_id >= 0 else ""
            text = (
                f"Warning: slow step{where}{worker}: {step_obj.sentence!r} "
                f"(line {step_obj.data.line}) has run {elapsed:.1f} s "
                f"(--slow-step-warning {self.seconds:g}); it is now at:\n{stack}"
            )
            notes = getattr(self.batch, "notes", None)
            if notes is not None and self.batch.current_step is current:
                notes.append(text)
            self.on_warning(text)

    def stop(self) -> None:
        self._stop.set()
        if self._terminal_fd >= 0:
            os.close(self._terminal_fd)
            self._terminal_fd = -1


FLUSH_SECONDS = 0.25  # results of a chunk of short scenarios go to the parent together


def _run_one(batch: Batch, item: WorkItem) -> ScenarioResult:
    started_at = time.time()
    start = time.perf_counter()
    try:
        result = batch.run(item)
    except BaseException as error:  # sys.exit() in a step, or a runner bug: keep the scenario
        result = ScenarioResult.errored(
            item.scenario_id,
            f"{_safe_describe(error)} escaped the scenario; it could not finish",
            _safe_traceback(error),
            duration=time.perf_counter() - start,
            started_at=started_at,
            worker_id=batch.worker_id,
        )
    return result


def main(
    spec: WorkerSpec,
    queues: tuple[Any, Any],
    stop_flag: Any = None,
    board: Board | None = None,
) -> None:
    """Worker entry point (the target of ``multiprocessing.Process``).

    ``queues`` are (this worker's own work queue, the pool's event queue) in the pool's
    SyncManager; ``stop_flag`` is set by the parent on Ctrl-C or ``--failfast``; ``board``
    is where this worker says which scenario it runs now.
    """
    _detach_from_terminal()
    _work(spec, queues, stop_flag, board)


def _work(spec: WorkerSpec, queues: tuple[Any, Any], stop_flag: Any, board: Board | None) -> None:
    """Set up, import the suite, run before.batch, run what comes, run after.batch."""
    recorder = _set_up(spec)
    channel = _Channel(queues, spec.worker_id)
    # set before the suite is imported: step files may read them at import time
    # (``lettuce.django.django_url`` does)
    set_worker_world(spec.worker_id, spec.port_number, spec.artifacts_dir)
    failure = _import_suite(spec)
    if failure is not None:
        channel.send("hook_failure", failure=failure)
        channel.send("done")
        return
    for key, value in spec.world_state.state.items():
        setattr(world, key, value)

    batch = Batch(
        spec.worker_id,
        capture_fds=True,
        on_hook_failure=lambda failure: channel.send("hook_failure", failure=failure),
    )
    channel.send("batch")  # before.batch starts now (--timeout bounds it)
    if not batch.start(spec.world_state):
        coverage_support.finish(recorder)
        channel.send("done", message="before.batch failed", span=batch.last_span)
        return
    channel.send("ready", span=batch.last_span)
    watchdog = SlowStepWatchdog(
        batch, spec.slow_step_warning, lambda text: channel.send("warning", message=text)
    )
    try:
        _Runs(spec, batch, channel, stop_flag, board).run(queues[0])
    finally:
        watchdog.stop()
        batch.finish()
        coverage_support.finish(recorder)
        channel.send("done", span=batch.last_span)


def _set_up(spec: WorkerSpec) -> Any:
    """The process around the suite: parent watch, log, stack dumps, cwd, sys.path, coverage."""
    watch_parent(spec.parent_pid, kill_own_tree)
    _redirect_output(spec.log_path)
    # Fatal signals (SIGSEGV...) dump every thread into the log, which the pool quotes in
    # the crashed scenario's report; a file of its own, as fd 2 is captured per scenario.
    crash_file = open(spec.log_path, "a")  # noqa: SIM115 - lives as long as the worker
    faulthandler.enable(file=crash_file, all_threads=True)
    stack_file = open(spec.stack_path, "w")  # noqa: SIM115 - lives as long as the worker
    faulthandler.register(signal.SIGUSR1, file=stack_file, all_threads=True)
    os.chdir(spec.cwd)
    sys.path[:] = list(spec.sys_path)
    return coverage_support.start(spec.coverage)


def _import_suite(spec: WorkerSpec) -> HookFailure | None:
    """Import the step files and terrain.py; a failure retires this worker."""
    try:
        import_suite(
            [Path(p) for p in spec.step_files], Path(spec.terrain) if spec.terrain else None
        )
    except PbddError as error:
        return HookFailure("import", error.format_message(), "", spec.worker_id)
    return None


class _Runs:
    """The worker's main loop: take an entry from its own queue, run it, send the results.

    A queue entry is a tuple of scenarios (one, a chunk of short ones, or a feature),
    pushed to this worker by the parent's dispatcher, which thus knows what it holds; the
    board names the running scenario, so the parent knows it without a message per start.
    A chunk's results go back together, at most ``FLUSH_SECONDS`` apart.
    """

    def __init__(
        self, spec: WorkerSpec, batch: Batch, channel: _Channel, stop_flag: Any, board: Any
    ) -> None:
        self.spec, self.batch, self.channel = spec, batch, channel
        self.stop_flag, self.board = stop_flag, board
        self.unsent: list[ScenarioResult] = []
        self.first_unsent = 0.0
        self.ran = 0

    def run(self, work_queue: Any) -> None:
        while not self.channel.broken:
            self.flush()
            try:
                entry = work_queue.get()
            except MANAGER_GONE:
                break
            if entry is None or not self.run_entry(list(m.unpack(entry))):
                break
        self.flush()

    def run_entry(self, pending: list[WorkItem]) -> bool:
        """Run one entry's scenarios in order; False when this worker must stop."""
        while pending:
            if self.stop_flag is not None and self.stop_flag.value:
                return False  # Ctrl-C or --failfast: the parent reports the rest as not run
            self.run_one(pending.pop(0), last=not pending)
        max_scenarios = self.spec.max_scenarios
        if max_scenarios and self.ran >= max_scenarios:
            self.flush()
            self.channel.send("recycle")
            return False
        return not self.channel.broken

    def run_one(self, item: WorkItem, last: bool) -> None:
        worker_id = self.spec.worker_id
        if self.board is not None:
            self.board.enter(worker_id, item)
        result = _run_one(self.batch, item)
        if self.board is not None:
            self.board.leave(worker_id)
        if not self.unsent:
            self.first_unsent = time.monotonic()
        self.unsent.append(result)
        if last or time.monotonic() - self.first_unsent > FLUSH_SECONDS:
            self.flush()
        self.ran += 1

    def flush(self) -> None:
        if self.unsent:
            self.channel.send_results(tuple(self.unsent))
            self.unsent.clear()
