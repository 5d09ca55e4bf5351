"""The faults the supervisor finds by looking, not by being told: ``FaultChecks``.

Every ``POLL_SECONDS`` the loop of ``supervisor.Supervisor`` calls ``check_slots``: a
worker that died (its scenario becomes a record, errored or re-run), a scenario past
``--timeout`` (its worker's stack goes in the record, then the worker is killed), a
``before.batch`` or ``after.batch`` past ``--timeout`` (a hook failure). Each fault has its
own method, which tells the ``dispatch.Dispatcher`` and carries out its ``Decision``.
``sync`` first tells the dispatcher what the board shows each worker running. A mixin of
``Supervisor``, whose state (below) and methods (``drain_events``, ``carry_out``, ``kill``,
``say``) it uses; imports nothing from cli, session or reporting.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..messages import HookFailure
from .worker_process import Shared, WorkerProcess

if TYPE_CHECKING:
    from ..dispatch import Decision, Dispatcher
    from .supervisor import PoolOutcome, PoolSettings


class FaultChecks:
    """``Supervisor``'s methods for the faults found by looking at its workers."""

    settings: PoolSettings
    shared: Shared
    outcome: PoolOutcome
    dispatcher: Dispatcher
    workers: list[WorkerProcess | None]
    by_order: dict[int, str]

    if TYPE_CHECKING:  # Supervisor's own

        def drain_events(self) -> None: ...
        def carry_out(self, decision: Decision, *, notices_first: bool = False) -> None: ...
        def kill(self, worker: WorkerProcess) -> None: ...
        def say(self, *notices: str) -> None: ...

    def check_slots(self) -> None:
        now = time.monotonic()
        for worker in list(self.workers):
            if worker is None:
                continue
            if worker.stopped:
                if not worker.alive():
                    worker.kill()  # what it left running goes now, not at the end
                continue
            self.sync(worker)
            if not worker.alive():
                self.on_worker_died(worker)
            elif self.timed_out(worker, now):
                self.on_timeout(worker)
            elif self.settings.timeout and self.batch_hook_hangs(worker, now):
                self.on_batch_timeout(worker)

    def on_worker_died(self, worker: WorkerProcess) -> None:
        self.drain_events()
        if worker.stopped or worker is not self.workers[worker.slot]:
            return  # its "done" was among the drained events, or it was replaced meanwhile
        self.sync(worker)  # the board names the scenario it died in
        decision = self.dispatcher.slot_crashed(
            worker.slot, worker.exit_cause(), worker.log_tail(), time.time()
        )
        worker.stopped = True
        worker.kill()  # what it started goes with it
        self.carry_out(decision)

    def timed_out(self, worker: WorkerProcess, now: float) -> bool:
        """Its running scenario has run past ``--timeout``."""
        running = self.dispatcher.running(worker.slot)
        return bool(
            self.settings.timeout and running and now - worker.running_since > self.settings.timeout
        )

    def on_timeout(self, worker: WorkerProcess) -> None:
        self.drain_events()
        self.sync(worker)
        if worker.stopped or not self.timed_out(worker, time.monotonic()):
            return  # it finished just in time
        stack = worker.stack()
        self.drain_events()
        if worker.stopped or not self.dispatcher.running(worker.slot):
            return
        detail = f"Stack of worker {worker.slot} when the timeout fired:\n{stack}"
        decision = self.dispatcher.slot_timed_out(
            worker.slot, self.settings.timeout, detail, time.time()
        )
        self.kill(worker)
        self.carry_out(decision, notices_first=True)

    def batch_hook_hangs(self, worker: WorkerProcess, now: float) -> bool:
        """--timeout bounds before.batch and after.batch too, each on its own."""
        if worker.retiring or self.dispatcher.holding(worker.slot):
            return False
        timeout = self.settings.timeout
        if not worker.ready:  # still in before.batch
            return bool(worker.batch_at) and now - worker.batch_at > timeout
        if not worker.told_to_stop_at:
            return False
        # after.batch: it got its end-of-work marker and has not said "done"
        return now - max(worker.told_to_stop_at, worker.idle_since) > timeout

    def on_batch_timeout(self, worker: WorkerProcess) -> None:
        self.drain_events()
        if worker.stopped or not self.batch_hook_hangs(worker, time.monotonic()):
            return  # it moved on meanwhile
        hook = "after.batch" if worker.ready else "before.batch"
        timeout = self.settings.timeout
        stack = worker.stack()
        failure = HookFailure(
            hook,
            f"{hook} on worker {worker.slot} did not finish within --timeout {timeout:g} s",
            f"Stack of worker {worker.slot} when the timeout fired:\n{stack}",
            worker.slot,
        )
        self.outcome.hook_failures.append(failure)
        self.say(f"{failure.error}; killing the worker")
        self.kill(worker)
        # a fresh worker's before.batch would hang again
        self.carry_out(self.dispatcher.slot_stopped(worker.slot, retire=hook == "before.batch"))

    def sync(self, worker: WorkerProcess) -> None:
        """Tell the dispatcher which scenario the board shows ``worker`` running."""
        slot = worker.slot
        order = self.shared.board.running[slot]
        scenario_id = self.by_order.get(order, "") if order >= 0 else ""
        if not scenario_id or scenario_id == self.dispatcher.running(slot):
            return
        since = self.shared.board.since[slot]
        started_at = time.time() - (time.monotonic() - since)
        self.carry_out(self.dispatcher.started(slot, scenario_id, started_at))
        if self.dispatcher.running(slot) == scenario_id:
            worker.running_since = since
