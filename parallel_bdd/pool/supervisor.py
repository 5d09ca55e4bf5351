"""The pool's event loop: worker events and faults in, the dispatcher's decisions carried out.

Made by ``pool.WorkerPool.run`` once the SyncManager is up. Each worker event kind has
its own small method (``on_ready``, ``on_results``, ``on_hook_failure``, ``on_done``...),
and so has each fault the loop finds by looking (``on_worker_died``, ``on_timeout``,
``on_batch_timeout``, in ``faults.py``): each tells the ``dispatch.Dispatcher`` what
happened and carries out the ``Decision`` it returns (``carry_out``). The dispatcher
decides who runs what; this module does the I/O: queues, processes, the board, the clock,
the callbacks.

Ctrl-C goes through ``interrupts.Interrupts``: the first press stops the hand-out and lets
running scenarios finish within the grace period; the second press (or the grace running
out) kills every worker's process tree and ends the loop.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..dispatch import (
    SHARED_POLL_SECONDS,
    Decision,
    Dispatcher,
    Entry,
    Rules,
    WorkSource,
    local_dispatcher,
)
from ..errors import QueueError
from ..interrupts import Interrupts
from ..messages import BatchSpan, HookFailure, ScenarioResult, WorkerEvent, WorkItem
from ..process_start import usable_cores
from ..worker import MANAGER_GONE, WorkerSpec
from .faults import FaultChecks
from .worker_process import Shared, WorkerProcess

POLL_SECONDS = 0.1
# A worker whose start (interpreter, imports) has not ended after this long no longer holds
# back the next one: its start is waiting on something other than the CPU.
STAGGER_FALLBACK_SECONDS = 1.0
RETIRING_HOOKS = ("before.all", "before.batch", "import")


@dataclass
class PoolOutcome:
    """What a pool run gives besides the records (those went to ``on_result``)."""

    hook_failures: list[HookFailure] = field(default_factory=list)
    not_run: list[str] = field(default_factory=list)
    interrupted: bool = False
    killed: bool = False
    workers_started: int = 0
    all_workers_failed: bool = False
    queue_error: QueueError | None = None  # the shared queue went away: the run stopped
    batch_spans: list[BatchSpan] = field(default_factory=list)  # for the HTML timeline


@dataclass(frozen=True)
class PoolSettings:
    """The run's options as the supervisor reads them."""

    spec_for: Callable[[int, Path], WorkerSpec]
    run_dir: Path
    rules: Rules
    timeout: float
    grace: float
    dist: str
    chunking: bool
    on_result: Callable[[ScenarioResult], None]
    on_notice: Callable[[str], None]
    interrupts: Interrupts
    source: WorkSource | None = None  # None: the scheduler's local queue


class Supervisor(FaultChecks):
    """One pool run: a ``WorkerProcess`` per started slot, the dispatcher, the loop."""

    def __init__(
        self, settings: PoolSettings, items: Sequence[WorkItem], slots: int, shared: Shared
    ) -> None:
        self.settings = settings
        self.shared = shared
        self.outcome = PoolOutcome()
        if settings.source is None:
            self.dispatcher = local_dispatcher(
                items, slots, settings.rules, dist=settings.dist, chunking=settings.chunking
            )
        else:  # @serial scenarios are one entry of the shared queue
            self.dispatcher = Dispatcher(items, settings.source, slots, settings.rules)
        self.by_order = {item.order: item.scenario_id for item in items}
        self.workers: list[WorkerProcess | None] = [None] * slots
        self.exiting: list[WorkerProcess] = []  # replaced workers, joined at the end
        self.manager_gone = False
        self.cores = usable_cores()
        self.last_start = 0.0
        self.handlers: dict[str, Callable[[WorkerProcess, WorkerEvent], None]] = {
            "batch": self.on_batch,
            "ready": self.on_ready,
            "results": self.on_results,
            "warning": self.on_warning,
            "hook_failure": self.on_hook_failure,
            "recycle": self.on_recycle,
            "done": self.on_done,
        }

    # -- the loop ----------------------------------------------------------------------
    def run(self) -> PoolOutcome:
        """Run until every slot is done (or killed); the rest is reported as not run.

        A shared queue that stays away past ``--queue-timeout`` stops the run at once:
        the workers are killed, and what this machine held is reclaimed by the others.
        """
        try:
            self.loop()
        except QueueError as error:
            self.outcome.queue_error = error
            self.say(f"The queue is gone ({error.message}); stopping the workers")
            self.kill_all()
        return self.outcome

    def loop(self) -> None:
        self.start_first_workers()
        last_check = last_poll = 0.0
        shared = self.settings.source is not None and self.settings.source.shared
        while not self.dispatcher.over and not self.manager_gone:
            if self.check_interrupts():
                break
            event = self.next_event()
            if self.manager_gone:
                break
            if event is not None:
                self.on_event(event)
            self.top_up()
            now = time.monotonic()
            if event is None or now - last_check >= POLL_SECONDS:
                last_check = now
                self.check_slots()
            if shared and now - last_poll >= SHARED_POLL_SECONDS:
                last_poll = now
                self.carry_out(self.dispatcher.poll())
        if self.manager_gone:
            self.say("the queue manager process is gone; stopping the workers")
            self.kill_all()

    def end(self) -> PoolOutcome:
        """After the loop and the manager's shutdown: wait for the workers, count the rest."""
        self.wind_down()
        not_run = self.dispatcher.finish()
        # The reports make their own not-run records (an earlier attempt, if any, stays
        # the scenario's result), so these only name what did not run.
        self.outcome.not_run = [result.scenario_id for result in not_run.final]
        self.outcome.all_workers_failed = all(slot.retired for slot in self.dispatcher.slots)
        return self.outcome

    def next_event(self) -> WorkerEvent | None:
        try:
            return self.shared.event_queue.get(timeout=POLL_SECONDS)  # type: ignore[no-any-return]
        except queue.Empty:
            return None
        except MANAGER_GONE:
            self.manager_gone = True
            return None

    def drain_events(self) -> None:
        """Handle every event already queued (a dead worker's last words come first)."""
        while not self.manager_gone:
            try:
                event = self.shared.event_queue.get_nowait()
            except queue.Empty:
                return
            except MANAGER_GONE:
                self.manager_gone = True
                return
            self.on_event(event)

    def on_event(self, event: WorkerEvent) -> None:
        worker = self.workers[event.worker_id]
        if worker is None or (event.pid and event.pid != worker.pid):
            return  # a late event from a worker that was already replaced
        handler = self.handlers.get(event.kind)
        if handler is not None:
            handler(worker, event)

    # -- worker events -----------------------------------------------------------------
    def on_batch(self, worker: WorkerProcess, event: WorkerEvent) -> None:
        """Its before.batch begins now (``--timeout`` bounds it)."""
        worker.batch_at = time.monotonic()

    def on_ready(self, worker: WorkerProcess, event: WorkerEvent) -> None:
        """Its before.batch is over (``event.span``: when it ran); it takes work."""
        self.keep_span(event)
        worker.ready = True
        self.carry_out(self.dispatcher.slot_ready(worker.slot))

    def on_results(self, worker: WorkerProcess, event: WorkerEvent) -> None:
        for result in event.results():
            self.carry_out(self.dispatcher.result(worker.slot, result))
        worker.idle_since = time.monotonic()

    def on_warning(self, worker: WorkerProcess, event: WorkerEvent) -> None:
        """A slow step: a notice now, and a note in the running scenario's record."""
        self.carry_out(self.dispatcher.note(worker.slot, event.message))

    def on_hook_failure(self, worker: WorkerProcess, event: WorkerEvent) -> None:
        failure = event.failure
        if failure is None:
            return
        self.outcome.hook_failures.append(failure)
        if failure.hook in RETIRING_HOOKS:
            worker.retiring = True  # a fresh worker would fail the same way
            self.say(f"worker {worker.slot} retired: {failure.hook} failed: {failure.error}")

    def on_recycle(self, worker: WorkerProcess, event: WorkerEvent) -> None:
        """``--max-scenarios-per-worker`` reached: a fresh worker takes over once it is done."""
        worker.recycling = True

    def on_done(self, worker: WorkerProcess, event: WorkerEvent) -> None:
        """It ran after.batch (``event.span``), or could not start, and ends."""
        self.keep_span(event)
        worker.stopped = True
        self.carry_out(
            self.dispatcher.slot_stopped(
                worker.slot, recycle=worker.recycling, retire=worker.retiring
            )
        )

    def keep_span(self, event: WorkerEvent) -> None:
        if event.span is not None:
            self.outcome.batch_spans.append(event.span)

    # -- Ctrl-C ------------------------------------------------------------------------
    def check_interrupts(self) -> bool:
        """True when the run must end now (second Ctrl-C, or the grace period is over)."""
        interrupts, grace = self.settings.interrupts, self.settings.grace
        grace_over = interrupts.presses == 1 and time.monotonic() - interrupts.first_at > grace
        if interrupts.presses >= 2 or grace_over:
            self.outcome.killed = self.outcome.interrupted = True
            self.say(
                f"Interrupted: the {grace:g} s grace period is over; killing the workers"
                if grace_over
                else "Interrupted again: killing the workers"
            )
            self.kill_all()
            return True
        if interrupts.presses == 1 and not self.outcome.interrupted:
            self.outcome.interrupted = True
            self.say(
                "Interrupted: finishing running scenarios "
                f"(up to {grace:g} s; press Ctrl-C again to stop now)"
            )
            self.carry_out(self.dispatcher.interrupt())
        return False

    # -- carrying out decisions ----------------------------------------------------------
    def carry_out(self, decision: Decision, *, notices_first: bool = False) -> None:
        """Act on ``decision`` field by field, in the order its docstring gives."""
        if not decision:
            return
        if notices_first:
            self.say(*decision.notices)
        for send in decision.sends:
            self.send(send.slot, send.entry)
        for record in decision.records:
            self.settings.on_result(record.result)  # every attempt; the last one counts
        if decision.halt:
            self.shared.stop_flag.value = 1  # workers read it before each scenario
        for slot in decision.stops:
            self.stop(slot)
        for slot in decision.restarts:
            self.restart(slot)
        self.outcome.hook_failures.extend(decision.hook_failures)
        if not notices_first:
            self.say(*decision.notices)

    def say(self, *notices: str) -> None:
        for text in notices:
            self.settings.on_notice(text)

    def send(self, slot: int, entry: Entry | None) -> None:
        worker = self.workers[slot]
        if worker is None or self.manager_gone:
            return
        try:
            worker.send(entry)
        except MANAGER_GONE:
            self.manager_gone = True

    def stop(self, slot: int) -> None:
        """The end-of-work marker; a slot never started is simply not started."""
        if self.workers[slot] is None:
            self.carry_out(self.dispatcher.slot_stopped(slot))
        else:
            self.send(slot, None)

    def restart(self, slot: int) -> None:
        old = self.workers[slot]
        if old is not None:
            old.kill()  # what the old worker started goes with it
            self.exiting.append(old)
            self.workers[slot] = None
        self.start_worker(slot)

    def kill(self, worker: WorkerProcess) -> None:
        worker.stopped = True
        worker.kill()
        worker.join(5)

    def kill_all(self) -> None:
        for worker in self.workers:
            if worker is not None:
                worker.kill()
                worker.stopped = True

    # -- starting workers --------------------------------------------------------------
    def start_first_workers(self) -> None:
        """Start the first workers; ``top_up`` starts the rest, as CPUs become free.

        A worker's start (a fresh interpreter importing pbdd and the suite) is CPU work.
        Started all at once on fewer cores, the workers share the CPUs and all become ready
        late; started one per core, the first ones are ready early and begin the longest
        scenarios while the next ones start. One core is left to the manager, which
        answers the workers' first calls meanwhile.
        """
        for slot in range(max(1, min(len(self.workers), self.cores - 1))):
            self.start_worker(slot)

    def starting(self) -> int:
        """Workers started that have not finished their imports yet."""
        return sum(
            1
            for worker in self.workers
            if worker is not None
            and not worker.stopped
            and not worker.batch_at
            and not worker.ready
        )

    def top_up(self) -> None:
        """Start the next never-started worker while fewer than one per core are starting."""
        if self.dispatcher.stopping or self.manager_gone:
            return
        unstarted = [
            slot.number
            for slot in self.dispatcher.slots
            if self.workers[slot.number] is None and slot.live and not slot.told_to_stop
        ]
        overdue = time.monotonic() - self.last_start > STAGGER_FALLBACK_SECONDS
        for slot in unstarted:
            if self.starting() >= self.cores and not overdue:
                return
            self.start_worker(slot)
            overdue = False

    def start_worker(self, slot: int) -> None:
        if self.manager_gone:
            return  # the loop ends: nobody could hand the worker its work
        spec = self.settings.spec_for(slot, self.settings.run_dir)
        try:
            self.workers[slot] = WorkerProcess.start(spec, self.shared)
        except MANAGER_GONE:
            self.manager_gone = True
            return
        self.last_start = time.monotonic()
        self.outcome.workers_started += 1

    def wind_down(self) -> None:
        """Wait for the workers to end (after.batch), then kill what is left of them."""
        deadline = time.monotonic() + (1 if self.outcome.killed else 10)
        workers = [worker for worker in self.workers if worker is not None] + self.exiting
        for worker in workers:
            worker.join(deadline - time.monotonic())
        for worker in workers:
            worker.kill()  # whatever a worker started (servers, browsers) goes with it
        for worker in workers:
            if worker.alive():
                worker.join(2)
            worker.kill()
