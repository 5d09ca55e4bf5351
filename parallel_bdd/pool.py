"""The worker pool: a SyncManager's queues, worker processes, crashes, timeouts, Ctrl-C.

Called by ``session.py`` in the parent for ``-p N`` with N > 1. Starts the workers
(``worker.main``), feeds them the scheduler's order through a shared queue (dynamic pull),
and turns everything that can happen to a worker into result records: a worker that dies
mid-scenario makes that scenario *errored* (``--requeue-crashed N``: re-run up to N more
times, each time on a fresh worker) and is replaced; a scenario over ``--timeout`` gets its
worker's stack in the report before the worker is killed and replaced.

Ctrl-C: the parent's SIGINT handler only records the press (``interrupts.Interrupts``: an
exception unwinding through a manager proxy call would leave the proxy out of step and
lose queue items).
The first press stops dispatch and lets running scenarios finish within the grace period;
the second press (or the grace running out) kills every worker's process group.

End of work: the queue holds only scenarios until every scenario has its final result
(a running one may still fail and be queued again by ``--retry``); then one ``None`` per
live worker tells them to run ``after.batch`` and stop. A queue entry is a tuple of
scenarios (``scheduler.queue_entries``): one, a chunk of short ones, or a whole feature,
``messages.pack``ed, as are the results that come back, so the manager passes bytes on
instead of unpickling and re-pickling every record. A worker that dies without taking its
``None`` leaves it to the fresh worker in its place.

Imports nothing from reporting; it reports progress through callbacks.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import queue
import shutil
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import messages as m
from .board import Board
from .interrupts import Interrupts
from .manager import PoolManager, launch_manager, new_queues
from .messages import HookFailure, ScenarioResult, WorkerEvent, WorkItem
from .process_start import new_run_dir, sigint_blocked, start_context, usable_cores
from .scheduler import queue_entries, retries_for, serial_tag
from .worker import MANAGER_GONE, WorkerSpec
from .worker import main as worker_main

POLL_SECONDS = 0.1
STARTUP_DEATHS_ALLOWED = 3  # a slot whose fresh workers keep dying before running anything
LOST_AFTER_SECONDS = 5.0  # everyone idle, queue empty, scenarios unaccounted for
# A worker whose start (interpreter, imports) has not ended after this long no longer holds
# back the next one: its start is waiting on something other than the CPU.
STAGGER_FALLBACK_SECONDS = 1.0


def describe_exit(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with code {code}"


@dataclass
class PoolOutcome:
    hook_failures: list[HookFailure] = field(default_factory=list)
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
    started_at: float = 0.0  # time.time() of running_since
    done: bool = False
    retired: bool = False  # before.batch (or the import) failed: do not restart
    ready: bool = False
    recycling: bool = False  # --max-scenarios-per-worker reached: replace when it is done
    ran: int = 0  # scenarios the current process started
    startup_deaths: int = 0
    assigned: WorkItem | None = None  # a crashed scenario this slot's fresh worker runs first
    notes: list[str] = field(default_factory=list)  # warnings about the running scenario
    ahead: list[str] = field(default_factory=list)  # taken, no result yet; [0] is running
    batch_at: float = 0.0  # when its before.batch started ("batch"); "ready" once it ended


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
        requeue_crashed: int = 0,
        retries: int = 0,
        dist: str = "load",
        chunking: bool = True,
        on_result: Callable[[ScenarioResult], None] | None = None,
        on_notice: Callable[[str], None] | None = None,
        interrupts: Interrupts | None = None,
    ) -> None:
        self.processes = processes
        self.spec_for = spec_for
        self.start_method = start_method
        self.context: Any = None  # the start method's context, once run() begins
        self.timeout = timeout
        self.grace = grace
        self.failfast = failfast
        self.requeue_crashed = requeue_crashed
        self.retries = retries
        self.dist = dist
        self.chunking = chunking
        self.on_result = on_result or (lambda result: None)
        self.on_notice = on_notice or (lambda text: None)
        self.interrupts = interrupts or Interrupts()
        self.run_dir: Path  # the workers' logs and stack dumps, made by run()

    def run(self, items: Sequence[WorkItem]) -> PoolOutcome:
        outcome = PoolOutcome()
        if not items:
            return outcome
        processes = max(1, min(self.processes, len(items)))
        self.run_dir = new_run_dir()
        self.context = start_context(self.start_method)
        with self.interrupts:
            run = _Run(self, items, processes, outcome)
            finished = False
            try:
                # the manager first, with the run's start method: each worker gets its
                # queues as arguments when it starts
                run.manager = PoolManager(ctx=self.context)  # shut down however far it got
                launch_manager(run.manager)
                run.work_queue, run.event_queue = new_queues(run.manager)
                run.start_workers()
                outcome = run.loop()
                finished = True
                return outcome
            finally:
                run.shutdown_manager()
                if not finished:
                    # An error ended the loop (a closed terminal, say): the workers find
                    # their pipe closed or the manager gone and end, after.batch included.
                    # They go before their run directory does, which one still starting
                    # would otherwise find missing.
                    run.wind_down()
                shutil.rmtree(self.run_dir, ignore_errors=True)  # worker logs, stack dumps


class _Run:
    """One run of the pool: the slots, the queues and what is still to be accounted for."""

    def __init__(
        self,
        pool: WorkerPool,
        items: Sequence[WorkItem],
        processes: int,
        outcome: PoolOutcome,
    ) -> None:
        self.pool = pool
        self.items = items
        self.outcome = outcome
        self.manager: Any = None  # the pool's PoolManager, set before it starts
        self.work_queue: Any = None  # set once the manager is up, before any worker starts
        self.event_queue: Any = None
        # Read by workers before each scenario of a queue entry: stops a chunk midway on
        # Ctrl-C or --failfast without a manager round trip per scenario.
        self.stop_flag: Any = pool.context.RawValue("b", 0)
        self.board = Board.for_slots(pool.context, processes)
        self.by_order = {item.order: item.scenario_id for item in items}
        self.serial_pending: list[WorkItem] = []  # @serial scenarios, handed out one at a time
        self.serial_in_flight = ""
        self.by_id = {item.scenario_id: item for item in items}
        self.remaining = set(self.by_id)  # no final result yet
        self.attempts: dict[str, int] = {}
        self.slots = [_Slot(worker_id) for worker_id in range(processes)]
        self.exiting: list[Any] = []  # replaced processes, joined at the end
        self.cleaned: set[int] = set()  # reaped workers whose group was killed once more
        self.stopping = False  # dispatch stopped (Ctrl-C or --failfast)
        self.sentinels_sent = False
        self.sentinels_at = 0.0
        self.idle_since = 0.0
        self.manager_gone = False
        self.cores = usable_cores()
        self.last_start = 0.0

    # -- process management ------------------------------------------------------------
    def start_workers(self) -> None:
        """Start the first workers; ``top_up`` starts the rest, as CPUs become free.

        A worker's start (a fresh interpreter importing pbdd and the suite) is CPU work.
        Started all at once on fewer cores, the workers share the CPUs and all become ready
        late; started one per core, the first ones are ready early and begin the longest
        scenarios while the next ones start. Pool time lost to starting is the sum of the
        workers' start delays, so staggering shortens the run. One core is left to the
        manager, which answers the workers' first calls meanwhile.
        """
        for slot in self.slots[: max(1, min(len(self.slots), self.cores - 1))]:
            self.start_worker(slot)

    def starting(self) -> int:
        """Workers started that have not finished their imports yet."""
        return sum(
            1
            for slot in self.slots
            if slot.process is not None and not slot.done and not slot.batch_at and not slot.ready
        )

    def top_up(self) -> None:
        """Start the next never-started worker while fewer than one per core are starting."""
        unstarted = [slot for slot in self.slots if slot.process is None and not slot.done]
        if not unstarted:
            return
        if self.sentinels_sent or self.manager_gone:
            return  # the work is over: send_sentinels closed the slots that never started
        overdue = time.monotonic() - self.last_start > STAGGER_FALLBACK_SECONDS
        for slot in unstarted:
            if self.starting() >= self.cores and not overdue:
                return
            self.start_worker(slot)
            overdue = False

    def shutdown_manager(self) -> None:
        shutdown = getattr(self.manager, "shutdown", None)  # only once it has started
        if shutdown is not None:
            shutdown()  # a Finalize: runs once however often it is called

    def start_worker(self, slot: _Slot) -> None:
        spec = self.pool.spec_for(slot.worker_id, self.pool.run_dir)
        self.board.leave(slot.worker_id)
        if slot.assigned is not None:
            spec = dataclasses.replace(spec, first_item=slot.assigned)
        process = self.pool.context.Process(
            target=worker_main,
            args=(spec, (self.work_queue, self.event_queue), self.stop_flag, self.board),
            name=f"pbdd-worker-{slot.worker_id}",
        )
        with sigint_blocked():
            process.start()
        self.adopt(slot, process)

    def adopt(self, slot: _Slot, process: Any) -> None:
        """``process`` is ``slot``'s worker from now on."""
        slot.process, slot.pid = process, process.pid
        slot.running, slot.ready, slot.recycling, slot.ran = "", False, False, 0
        slot.notes = []
        slot.ahead = []
        slot.batch_at = 0.0
        self.last_start = time.monotonic()
        self.outcome.workers_started += 1

    def kill_group(self, slot: _Slot) -> None:
        if slot.process is not None:
            self.kill_tree(slot.process)

    def kill_tree(self, process: Any) -> None:
        """SIGKILL a worker, its process group, and any descendant that left the group.

        A pid is only signalled while it cannot belong to someone else: the worker's own
        pid until we reap it, its group id (which Linux does not hand out again while the
        group has members) once more right after reaping, then never again.
        """
        pid = process.pid
        if not pid or pid in self.cleaned:
            return
        if process.exitcode is not None:  # polls, and reaps a dead worker
            # Reaped: its descendants are no longer its children; its group is what is left.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            self.cleaned.add(pid)
            return
        import psutil  # only here: a worker that ended by itself never needs it

        descendants: list[psutil.Process] = []
        with contextlib.suppress(psutil.Error):
            descendants = psutil.Process(pid).children(recursive=True)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
        for child in descendants:
            with contextlib.suppress(psutil.Error):
                child.kill()

    def stack_of(self, slot: _Slot) -> str:
        path = self.pool.run_dir / f"worker-{slot.worker_id}.stack"
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

    def log_tail(self, slot: _Slot, lines: int = 30) -> str:
        path = self.pool.run_dir / f"worker-{slot.worker_id}.log"
        try:
            text = path.read_text(errors="replace")
        except OSError:
            return ""
        tail = text.strip().split("\n")[-lines:]
        return "Last output of the worker:\n" + "\n".join(tail) if text.strip() else ""

    # -- results -----------------------------------------------------------------------
    def stamped(self, result: ScenarioResult, notes: Sequence[str] = ()) -> ScenarioResult:
        attempt = self.attempts.get(result.scenario_id, 1)
        changes: dict[str, Any] = {}
        if attempt != result.attempt:
            changes["attempt"] = attempt
        extra = tuple(note for note in notes if note not in result.notes)
        if extra:
            changes["notes"] = result.notes + extra
        return dataclasses.replace(result, **changes) if changes else result

    def finish(self, result: ScenarioResult) -> None:
        scenario_id = result.scenario_id
        if scenario_id not in self.remaining:
            return  # a late result for a scenario already settled (timed out, lost)
        item = self.by_id[scenario_id]
        attempt = self.attempts.get(scenario_id, 1)
        if (
            result.status in (m.FAILED, m.ERRORED, m.AMBIGUOUS)
            and attempt <= retries_for(item, self.pool.retries)
            and not self.stopping
        ):
            # --retry / @retry(N): report this attempt and queue the scenario again
            self.pool.on_result(result)
            self.attempts[scenario_id] = attempt + 1
            self.queue((item,))
            return
        self.remaining.discard(scenario_id)
        self.pool.on_result(result)
        if scenario_id == self.serial_in_flight:
            self.serial_in_flight = ""
            self.dispatch_serial()
        if self.pool.failfast and result.failed:
            self.stop_dispatch("--failfast: a scenario failed; letting running scenarios finish")

    def dispatch_serial(self) -> None:
        """Queue the next @serial scenario once the previous one has its final result."""
        if self.serial_in_flight or not self.serial_pending or self.stopping:
            return
        item = self.serial_pending.pop(0)
        self.serial_in_flight = item.scenario_id
        self.queue((item,))

    def errored_result(self, slot: _Slot, reason: str, detail: str) -> ScenarioResult:
        return self.stamped(
            ScenarioResult(
                scenario_id=slot.running,
                status=m.ERRORED,
                duration=time.monotonic() - slot.running_since,
                started_at=slot.started_at,
                worker_id=slot.worker_id,
                error=reason,
                error_traceback=detail,
            ),
            slot.notes,
        )

    def errored(self, slot: _Slot, reason: str, detail: str = "") -> None:
        if not slot.running:
            return
        result = self.errored_result(slot, reason, detail)
        if slot.running in slot.ahead:
            slot.ahead.remove(slot.running)
        slot.running = ""
        self.finish(result)

    def sync(self, slot: _Slot) -> None:
        """Which scenario ``slot``'s worker runs now, read from the shared board."""
        order = self.board.running[slot.worker_id]
        scenario_id = self.by_order.get(order, "") if order >= 0 else ""
        if scenario_id and scenario_id not in self.remaining:
            scenario_id = ""  # settled meanwhile (its result, or a timeout, came first)
        if scenario_id == slot.running:
            return
        slot.running = scenario_id
        slot.notes = []
        if scenario_id:
            since = self.board.since[slot.worker_id]
            slot.running_since = since
            slot.started_at = time.time() - (time.monotonic() - since)
            slot.ran += 1

    def requeue_ahead(self, slot: _Slot) -> None:
        """A worker went away holding scenarios it never started: queue them again."""
        rest = [self.by_id[i] for i in slot.ahead if i != slot.running and i in self.remaining]
        slot.ahead = []
        if rest and not self.stopping:
            self.queue(tuple(rest))

    # -- dispatch ----------------------------------------------------------------------
    def queue(self, entry: tuple[WorkItem, ...]) -> None:
        """Put one queue entry (a worker takes it whole) at the end of the work queue."""
        self.work_queue.put(m.pack(entry))

    def unassigned_work(self) -> set[str]:
        """Scenarios without a result that no worker holds: they are still in the queue."""
        held = {slot.running for slot in self.slots if slot.running}
        held |= {slot.assigned.scenario_id for slot in self.slots if slot.assigned is not None}
        held |= {scenario_id for slot in self.slots for scenario_id in slot.ahead}
        held |= {item.scenario_id for item in self.serial_pending}
        return self.remaining - held

    def send_sentinels(self) -> None:
        for slot in self.slots:
            if slot.process is None:
                slot.done = True  # never started: the work ended without it
            elif not slot.done:
                self.work_queue.put(None)
        self.sentinels_sent = True
        self.sentinels_at = time.monotonic()

    def stop_dispatch(self, reason: str) -> None:
        if self.stopping:
            return
        self.stopping = True
        self.stop_flag.value = 1
        self.serial_pending.clear()
        self.pool.on_notice(reason)
        while True:
            try:
                self.work_queue.get_nowait()
            except queue.Empty:
                break
        for slot in self.slots:
            slot.assigned = None
        self.send_sentinels()

    def replace(self, slot: _Slot) -> bool:
        """Start a fresh worker in ``slot`` if there is work for it; else the slot is done."""
        if slot.process is not None:
            self.kill_group(slot)  # what the old worker started goes with it
            self.exiting.append(slot.process)
        if self.stopping or slot.retired or self.manager_gone:
            self.settle_assigned(slot, "its fresh worker could not start")
            slot.done = True
            return False
        if slot.assigned is None and not self.unassigned_work():
            slot.done = True
            return False
        self.start_worker(slot)
        return True

    def settle_assigned(self, slot: _Slot, why: str) -> None:
        item, slot.assigned = slot.assigned, None
        if item is None or self.stopping:
            return
        self.finish(
            self.stamped(
                ScenarioResult(
                    scenario_id=item.scenario_id,
                    status=m.ERRORED,
                    worker_id=slot.worker_id,
                    error=f"not re-run after its worker crashed: {why}",
                )
            )
        )

    # -- events ------------------------------------------------------------------------
    def handle(self, event: WorkerEvent) -> None:
        slot = self.slots[event.worker_id]
        if event.pid and event.pid != slot.pid:
            return  # a late event from a worker that was already replaced
        if event.kind == "batch":
            slot.batch_at = time.monotonic()
        elif event.kind == "ready":
            slot.ready = True
        elif event.kind == "took":
            slot.ahead = list(event.scenario_ids)
            slot.ran = max(slot.ran, 1)
            if slot.assigned is not None and slot.assigned.scenario_id in event.scenario_ids:
                slot.assigned = None
        elif event.kind == "results":
            for result in event.results():
                if result.scenario_id in slot.ahead:
                    slot.ahead.remove(result.scenario_id)
                notes: Sequence[str] = ()
                if result.scenario_id == slot.running:
                    slot.running, notes, slot.notes = "", slot.notes, []
                self.finish(self.stamped(result, notes))
        elif event.kind == "warning":
            if slot.running:
                slot.notes.append(event.message)
            self.pool.on_notice(event.message)
        elif event.kind == "hook_failure" and event.failure is not None:
            self.outcome.hook_failures.append(event.failure)
            if event.failure.hook in ("before.all", "before.batch", "import"):
                slot.retired = True
                self.pool.on_notice(
                    f"worker {slot.worker_id} retired: {event.failure.hook} failed: "
                    f"{event.failure.error}"
                )
        elif event.kind == "recycle":
            slot.recycling = True
        elif event.kind == "done":
            if self.stopping:
                slot.running, slot.ahead = "", []  # stopped between scenarios: not run
            elif slot.running:
                self.requeue_ahead(slot)
                self.errored(slot, "the worker stopped before the scenario ended")
            if slot.recycling and not slot.retired:
                self.replace(slot)
            else:
                self.settle_assigned(slot, "its fresh worker stopped")
                slot.done = True

    def drain_events(self) -> None:
        """Handle every event already queued (a dead worker's last words come first)."""
        while not self.manager_gone:
            try:
                event = self.event_queue.get_nowait()
            except queue.Empty:
                return
            except MANAGER_GONE:
                self.manager_gone = True
                return
            self.handle(event)

    # -- faults ------------------------------------------------------------------------
    def on_death(self, slot: _Slot) -> None:
        self.drain_events()
        if slot.done or not slot.process or slot.process.is_alive():
            return  # its "done" was among the drained events, or it was replaced meanwhile
        self.sync(slot)  # the board names the scenario it died in
        cause = describe_exit(slot.process.exitcode)
        self.requeue_ahead(slot)
        if slot.running:
            item = self.by_id[slot.running]
            attempt = self.attempts.get(item.scenario_id, 1)
            retry = attempt <= self.pool.requeue_crashed and not self.stopping
            notice = f"worker {slot.worker_id} died ({cause}) while running {item.display_name!r}"
            reason = f"worker {slot.worker_id} died ({cause})"
            if retry:
                result = self.errored_result(slot, reason, self.log_tail(slot))
                slot.running, slot.ahead = "", []
                self.pool.on_result(result)
                self.attempts[item.scenario_id] = attempt + 1
                slot.assigned = item
            else:
                self.errored(slot, reason, self.log_tail(slot))
            slot.startup_deaths = 0
            if self.replace(slot):
                notice += "; " + (
                    f"re-running it on a fresh worker (attempt {attempt + 1})"
                    if retry
                    else "a fresh worker takes its place"
                )
            self.pool.on_notice(notice)
            return
        elif slot.ran == 0 and not slot.recycling and not slot.retired:
            slot.startup_deaths += 1
            if slot.startup_deaths >= STARTUP_DEATHS_ALLOWED:
                slot.retired = True
                failure = HookFailure(
                    "worker start",
                    f"worker {slot.worker_id} died {slot.startup_deaths} times before running "
                    f"a scenario (last: {cause})",
                    self.log_tail(slot),
                    slot.worker_id,
                )
                self.outcome.hook_failures.append(failure)
                self.pool.on_notice(f"worker {slot.worker_id} retired: {failure.error}")
        elif not self.stopping:
            # after.batch, a thread of the suite, or a kill from outside: say so
            self.outcome.hook_failures.append(
                HookFailure(
                    "worker exit",
                    f"worker {slot.worker_id} died ({cause}) outside any scenario",
                    self.log_tail(slot),
                    slot.worker_id,
                )
            )
        self.replace(slot)

    def on_timeout(self, slot: _Slot) -> None:
        self.drain_events()
        self.sync(slot)
        if not slot.running or slot.done:
            return  # it finished just in time
        stack = self.stack_of(slot)
        self.drain_events()
        if not slot.running:
            return
        timeout = self.pool.timeout
        self.requeue_ahead(slot)
        self.pool.on_notice(
            f"{self.by_id[slot.running].name!r} exceeded --timeout {timeout:g} s "
            f"on worker {slot.worker_id}; killing the worker"
        )
        self.errored(
            slot,
            f"timed out after {timeout:g} s (--timeout)",
            f"Stack of worker {slot.worker_id} when the timeout fired:\n{stack}",
        )
        self.kill_group(slot)
        if slot.process is not None:
            slot.process.join(5)
        self.replace(slot)

    def check_slots(self) -> None:
        now = time.monotonic()
        for slot in self.slots:
            if slot.process is None:
                continue
            if slot.done:
                if not slot.process.is_alive():
                    self.kill_group(slot)  # what it left running goes now, not at the end
                continue
            self.sync(slot)
            if not slot.process.is_alive():
                self.on_death(slot)
            elif (
                self.pool.timeout and slot.running and now - slot.running_since > self.pool.timeout
            ):
                self.on_timeout(slot)
            elif self.pool.timeout and self.batch_hook_hangs(slot, now):
                self.on_batch_timeout(slot)

    def batch_hook_hangs(self, slot: _Slot, now: float) -> bool:
        """--timeout bounds before.batch and after.batch too, each on its own."""
        if slot.running or slot.ahead or slot.retired:
            return False
        if not slot.ready:  # still in before.batch
            return bool(slot.batch_at) and now - slot.batch_at > self.pool.timeout
        # after.batch: it got its end-of-work marker and has not said "done"
        return self.sentinels_sent and now - self.sentinels_at > self.pool.timeout

    def on_batch_timeout(self, slot: _Slot) -> None:
        self.drain_events()
        if (
            slot.done
            or slot.running
            or slot.ahead
            or not self.batch_hook_hangs(slot, time.monotonic())
        ):
            return  # it moved on meanwhile
        hook = "after.batch" if slot.ready else "before.batch"
        timeout = self.pool.timeout
        stack = self.stack_of(slot)
        failure = HookFailure(
            hook,
            f"{hook} on worker {slot.worker_id} did not finish within --timeout {timeout:g} s",
            f"Stack of worker {slot.worker_id} when the timeout fired:\n{stack}",
            slot.worker_id,
        )
        self.outcome.hook_failures.append(failure)
        self.pool.on_notice(f"{failure.error}; killing the worker")
        self.kill_group(slot)
        if slot.process is not None:
            slot.process.join(5)
        if hook == "before.batch":
            slot.retired = True  # a fresh worker's before.batch would hang again
        slot.done = True

    def check_progress(self) -> None:
        """Send the end-of-work sentinels; settle scenarios a dying worker took with it."""
        if self.stopping or self.sentinels_sent:
            return
        if not self.remaining:
            # only now: a scenario still running may fail and be queued again (--retry)
            self.send_sentinels()
            return
        unassigned = self.unassigned_work()
        if not unassigned:
            return
        live = [slot for slot in self.slots if not slot.done]
        everyone_idle = live and all(
            slot.ready and not slot.running and not slot.ahead and slot.assigned is None
            for slot in live
        )
        if not everyone_idle or self.work_queue.qsize():
            self.idle_since = 0.0
            return
        now = time.monotonic()
        if not self.idle_since:
            self.idle_since = now
        elif now - self.idle_since > LOST_AFTER_SECONDS:
            # A worker took these from the queue and died before it could say so.
            for scenario_id in sorted(unassigned):
                self.finish(
                    self.stamped(
                        ScenarioResult(
                            scenario_id=scenario_id,
                            status=m.ERRORED,
                            error="lost: a worker took it from the queue and died before "
                            "starting it",
                        )
                    )
                )
            self.send_sentinels()

    # -- Ctrl-C ------------------------------------------------------------------------
    def check_interrupts(self) -> bool:
        """True when the run must end now (second Ctrl-C, or the grace period is over)."""
        interrupts = self.pool.interrupts
        grace_over = (
            interrupts.presses == 1 and time.monotonic() - interrupts.first_at > self.pool.grace
        )
        if interrupts.presses >= 2 or grace_over:
            self.outcome.killed = True
            self.outcome.interrupted = True
            self.pool.on_notice(
                f"Interrupted: the {self.pool.grace:g} s grace period is over; killing the workers"
                if grace_over
                else "Interrupted again: killing the workers"
            )
            for slot in self.slots:
                self.kill_group(slot)
                slot.running = ""
                slot.done = True
            return True
        if interrupts.presses == 1 and not self.outcome.interrupted:
            self.outcome.interrupted = True
            self.stop_dispatch(
                "Interrupted: finishing running scenarios "
                f"(up to {self.pool.grace:g} s; press Ctrl-C again to stop now)"
            )
        return False

    # -- the loop ----------------------------------------------------------------------
    def loop(self) -> PoolOutcome:
        serial = [item for item in self.items if serial_tag(item)]
        others = [item for item in self.items if not serial_tag(item)]
        self.serial_pending = serial
        self.top_up()  # the manager is up: the next workers start while the queue fills
        # the @serial chain starts first: it cannot be spread, so it is the longest path
        self.dispatch_serial()
        entries = list(
            queue_entries(others, len(self.slots), dist=self.pool.dist, chunking=self.pool.chunking)
        )
        # the first entries alone, so the first workers need not wait for the whole queue
        first = len(self.slots)
        for batch in (entries[:first], entries[first:]):
            if batch:
                self.work_queue.put_many([m.pack(entry) for entry in batch])
        last_check = 0.0
        while any(not slot.done for slot in self.slots):
            if self.check_interrupts():
                break
            try:
                event: WorkerEvent | None = self.event_queue.get(timeout=POLL_SECONDS)
            except queue.Empty:
                event = None
            except MANAGER_GONE:
                self.manager_gone = True
            if self.manager_gone:
                self.pool.on_notice("the queue manager process is gone; stopping the workers")
                for slot in self.slots:
                    self.kill_group(slot)
                    slot.done = True
                break
            if event is not None:
                self.handle(event)
            self.top_up()
            now = time.monotonic()
            if event is None or now - last_check >= POLL_SECONDS or not self.remaining:
                last_check = now
                self.check_slots()
                self.check_progress()
        # Every worker is done or killed: nobody needs the queues any more. The manager's
        # exit and the workers' exits then overlap instead of following each other.
        self.shutdown_manager()
        self.wind_down()
        self.outcome.not_run = [
            item.scenario_id for item in self.items if item.scenario_id in self.remaining
        ]
        self.outcome.all_workers_failed = all(slot.retired for slot in self.slots)
        return self.outcome

    def wind_down(self) -> None:
        deadline = time.monotonic() + (1 if self.outcome.killed else 10)
        processes = [slot.process for slot in self.slots if slot.process is not None]
        for process in processes + self.exiting:
            process.join(max(0.0, deadline - time.monotonic()))
        for process in processes + self.exiting:
            # whatever a worker started (servers, browsers) goes with it
            self.kill_tree(process)
        for process in processes + self.exiting:
            if process.is_alive():
                process.join(2)
            self.kill_tree(process)
