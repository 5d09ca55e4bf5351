"""``-p 1`` on a shared queue: the dispatcher's one slot is this process.

Called by ``session.py`` for a ``--queue`` run with one process. The scenarios run here, as
in ``serial.py`` (the same ``Batch``, ``--timeout`` alarm and Ctrl-C handler), but what runs
next and what follows each record is the dispatcher's decision, as in the pool: ``--retry``,
``--failfast``, the leases, give-backs and take-overs of the shared source follow the rules
written once in ``dispatch``. No SyncManager and no worker process are started, so the
machine is running its first scenario sooner.

While a scenario runs, the main thread is inside its steps, so a ``_Watch`` thread
heartbeats the held leases. It also stops the running scenario where it is (as the pool
kills its worker) when the ``--grace`` period after a first Ctrl-C is over, or when the
queue is gone for longer than ``--queue-timeout``. A crash of this process is a lost
machine: the others take its entries over after ``--heartbeat-timeout``.

Imports nothing from reporting, the pool or the ``queue`` package (the source comes in).
"""

from __future__ import annotations

import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from .dispatch import SHARED_POLL_SECONDS, Decision, Dispatcher, Rules, WorkSource
from .errors import QueueError
from .interrupts import Interrupts
from .messages import ScenarioResult, WorkItem
from .serial import SerialOutcome, SerialRun, SerialSettings, in_this_process

# How often the watch thread looks at the leases (each beats when due) and the grace period.
WATCH_SECONDS = 0.1
SLOT = 0


def run_dispatched(
    items: Sequence[WorkItem],
    source: WorkSource,
    settings: SerialSettings,
    grace: float,
    *,
    on_result: Callable[[ScenarioResult], None],
    on_notice: Callable[[str], None],
) -> SerialOutcome:
    """Run here what a one-slot dispatcher of ``items`` takes from ``source``, until it is
    over (``source`` left to close)."""
    rules = Rules(retries=settings.retries, failfast=settings.failfast)
    dispatcher = Dispatcher(items, source, 1, rules)

    def on_first_press() -> None:
        on_notice(
            f"Interrupted: finishing the running scenario (up to {grace:g} s; "
            "press Ctrl-C again to stop now)"
        )

    outcome = SerialOutcome()
    with in_this_process(settings, on_result, on_notice, on_first_press) as run:
        watch = _Watch(dispatcher.source, run.interrupts, grace)
        lane = _Lane(dispatcher, run, outcome, watch.lock)
        try:
            lane.run()
        except KeyboardInterrupt:  # a second Ctrl-C, the grace period, or the queue gone
            if watch.error is None:
                run.interrupts.presses = max(run.interrupts.presses, 2)
        except QueueError as error:
            outcome.error = error
        finally:
            watch.stop()
        outcome.error = outcome.error or watch.error
        if outcome.error is not None:
            on_notice(f"The queue is gone ({outcome.error.message}); stopping")
        outcome.interrupted = run.interrupts.presses > 0 and watch.error is None
        outcome.hook_failures = list(run.batch.failures) + outcome.hook_failures
        outcome.batch_spans = list(run.batch.spans)
    not_run = dispatcher.finish()
    outcome.not_run = [result.scenario_id for result in not_run.final]
    return outcome


class _Lane:
    """The dispatcher's slot 0, carried out in this process: what it was sent runs in order;
    ``halt`` stops before the next scenario, ``stops`` after the last one it was sent."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        run: SerialRun,
        outcome: SerialOutcome,
        lock: threading.Lock,
    ) -> None:
        self.dispatcher, self.run_, self.outcome, self.lock = dispatcher, run, outcome, lock
        self.items: deque[WorkItem] = deque()
        self.halted = self.told_to_stop = self.interrupted = False

    def run(self) -> None:
        dispatcher, batch = self.dispatcher, self.run_.batch
        if not batch.start():
            self.outcome.before_batch_failed = True
            self.ask(lambda: dispatcher.slot_stopped(SLOT, retire=True))
            return
        self.ask(dispatcher.slot_ready, SLOT)
        while not dispatcher.over:
            self.check_interrupts()
            if self.items and not self.halted:
                item = self.items.popleft()
                self.ask(dispatcher.started, SLOT, item.scenario_id, time.time())
                result = self.run_.attempt(item)
                self.check_interrupts()  # before the record: nothing more is reserved
                self.ask(dispatcher.result, SLOT, result)
            elif self.halted or self.told_to_stop:
                batch.finish()
                self.ask(dispatcher.slot_stopped, SLOT)
            else:  # this machine holds nothing; another one may give work back
                time.sleep(SHARED_POLL_SECONDS)  # a pause between looks, not a synchronisation
                self.ask(dispatcher.poll)

    def check_interrupts(self) -> None:
        """The first Ctrl-C: the dispatcher hands out nothing more and gives back the rest."""
        if self.run_.interrupts.presses and not self.interrupted:
            self.interrupted = True
            self.ask(self.dispatcher.interrupt)

    def ask(self, event: Callable[..., Decision], *args: Any) -> None:
        """Tell the dispatcher of ``event`` (it may call the source: the watch waits), then
        carry out its decision."""
        with self.lock:
            decision = event(*args)
        self.carry_out(decision)

    def carry_out(self, decision: Decision) -> None:
        """Act on ``decision`` as the pool's loop does, for the one slot there is."""
        for send in decision.sends:
            self.items.extend(send.entry)
        for record in decision.records:
            self.run_.on_result(record.result)
        self.halted = self.halted or decision.halt
        self.told_to_stop = self.told_to_stop or SLOT in decision.stops
        # decision.restarts: none come, as this slot never crashes without this process
        self.outcome.hook_failures.extend(decision.hook_failures)
        for text in decision.notices:
            self.run_.on_notice(text)


class _Watch:
    """A thread that heartbeats the source's leases while the main thread runs scenarios.

    The source is not made for two threads: each calls it holding ``lock``. When the grace
    period after a first Ctrl-C is over, or the queue stayed away past ``--queue-timeout``
    (``error``), the watch stops the running scenario with a second press and ends.
    """

    def __init__(self, source: WorkSource, interrupts: Interrupts, grace: float) -> None:
        self.source, self.interrupts, self.grace = source, interrupts, grace
        self.error: QueueError | None = None
        self.lock = threading.Lock()
        self._done = threading.Event()
        self._main = threading.main_thread().ident or 0
        self._thread = threading.Thread(target=self._watch, name="pbdd-heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._done.wait(WATCH_SECONDS):
            with self.lock:
                if self._done.is_set() or not self._look():
                    return

    def _look(self) -> bool:
        """Heartbeat when due, end the grace period when over; False once it stopped the run."""
        try:
            self.source.beat()
        except QueueError as error:
            self.error = error
            self._stop_scenario()
            return False
        presses, first_at = self.interrupts.presses, self.interrupts.first_at
        if presses == 1 and time.monotonic() - first_at > self.grace:
            self._stop_scenario()
            return False
        return True

    def _stop_scenario(self) -> None:
        """A Ctrl-C that raises KeyboardInterrupt in the main thread, where it is."""
        self.interrupts.presses = max(self.interrupts.presses, self.interrupts.raise_after)
        signal.pthread_kill(self._main, signal.SIGINT)
