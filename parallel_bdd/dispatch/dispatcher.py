"""The pool's bookkeeping: events in, decisions out.

Called by the pool's event loop (and by tests, directly): one method per event a worker
position can have (ready, started a scenario, sent a record, crashed, timed out, stopped),
plus ``interrupt`` (Ctrl-C) and ``finish`` (the run is over). Each returns a
``decisions.Decision`` of plain values: what to send to whom, which records to report and
whether each is final, which workers to restart or stop.

The invariant it keeps: every selected scenario gets exactly one final record, whatever
happens in between (crashes, retries, timeouts, ``--failfast``, Ctrl-C); a scenario is held
by at most one slot at a time; nothing is handed out once the run stops.

Imports no process or I/O module: no clock either (times come in as arguments).
"""

from __future__ import annotations

from collections.abc import Sequence

from parallel_bdd import messages as m
from parallel_bdd.dispatch.decisions import (
    STARTUP_DEATHS_ALLOWED,
    Decision,
    Draft,
    Record,
    Rules,
    Send,
    stamped,
)
from parallel_bdd.dispatch.slots import Slot, SlotState
from parallel_bdd.dispatch.source import Entry, LocalQueue, WorkSource, entry_ids
from parallel_bdd.messages import HookFailure, ScenarioResult, WorkItem
from parallel_bdd.scheduler import queue_entries, serial_tag


class Dispatcher:
    """What is left, who holds what, attempts, retries, the ``@serial`` chain, stopping.

    ``items`` is the whole selection; ``serial`` the ``@serial`` ones among them, which run
    one at a time, in this order, ahead of the source's entries, and are not in ``source``.
    Slots are numbered ``0 .. slots - 1``; each starts in ``SlotState.STARTING``.
    """

    def __init__(
        self,
        items: Sequence[WorkItem],
        source: WorkSource,
        slots: int,
        rules: Rules = Rules(),  # noqa: B008 - frozen, shared safely
        serial: Sequence[WorkItem] = (),
    ) -> None:
        self.source = source
        self.rules = rules
        self.slots = [Slot(number) for number in range(max(1, slots))]
        self._items = {item.scenario_id: item for item in items}
        self._order = [item.scenario_id for item in items]
        self._final: set[str] = set()
        # what pending() lists, as a set (looked at after every event): every selected
        # scenario without a final record, or with a shared source those this machine was
        # handed
        self._open: set[str] = set() if source.shared else set(self._order)
        self._attempts: dict[str, int] = {}
        self._serial_waiting = list(serial)  # not handed out yet
        self._serial_in_flight = ""  # the chain's link without a final record yet
        self._serial_next: WorkItem | None = None  # the link to hand out next
        self.stopping = False  # --failfast or Ctrl-C: nothing more is handed out
        self.finished = False
        self._advance_serial()

    # -- queries -----------------------------------------------------------------------
    @property
    def over(self) -> bool:
        """No slot has or will have a worker: the loop ends and calls ``finish``."""
        return self.finished or not any(slot.live for slot in self.slots)

    def pending(self) -> list[str]:
        """Selected scenarios this run answers for without a final record, in selection
        order: all of them, or with a shared source those this machine was handed."""
        return [scenario_id for scenario_id in self._order if scenario_id in self._open]

    def attempts(self, scenario_id: str) -> int:
        """The attempt the scenario is on (1-based)."""
        return self._attempts.get(scenario_id, 1)

    def holding(self, slot: int) -> tuple[str, ...]:
        """The scenarios ``slot`` was given and has no record for, in run order."""
        return tuple(self.slots[slot].held_ids())

    def running(self, slot: int) -> str:
        return self.slots[slot].running

    # -- events from a slot ------------------------------------------------------------
    def slot_ready(self, slot: int) -> Decision:
        """Its worker ran before.batch and takes work now."""
        state = self._slot(slot)
        if state is None or state.state is not SlotState.STARTING:
            return Decision()
        state.state = SlotState.READY
        return self._after(Draft())

    def started(self, slot: int, scenario_id: str, at: float = 0.0) -> Decision:
        """Its worker started ``scenario_id`` at ``at`` (time.time()); the board says so."""
        state = self._slot(slot)
        if state is None or not state.holds(scenario_id) or scenario_id == state.running:
            return Decision()
        state.running, state.started_at, state.notes = scenario_id, at, []
        state.ran += 1
        return Decision()

    def note(self, slot: int, text: str) -> Decision:
        """A warning from the worker (a slow step): it goes into the running scenario's record."""
        state = self._slot(slot)
        if state is not None and state.running:
            state.notes.append(text)
        return Decision(notices=(text,))

    def result(self, slot: int, result: ScenarioResult) -> Decision:
        """A record came back from ``slot``'s worker."""
        state = self._slot(slot)
        if state is None or not state.holds(result.scenario_id):
            return Decision()  # late: from a worker whose work was settled without it
        out = Draft()
        notes = state.notes if result.scenario_id == state.running else []
        state.let_go(result.scenario_id)
        state.ran = max(state.ran, 1)
        self._settle(result, out, notes)
        return self._after(out)

    def slot_crashed(self, slot: int, cause: str, detail: str = "", now: float = 0.0) -> Decision:
        """Its worker died (``cause``: "killed by signal SIGKILL"); ``detail``: its log tail."""
        state = self._slot(slot)
        if state is None:
            return Decision()
        out = Draft()
        item = state.item(state.running) if state.running else None
        running = self._errored(state, f"worker {slot} died ({cause})", detail, now)
        self._give_back(state, out)
        if item is not None:
            self._crashed_in(state, item, running, cause, out)
        elif state.ran == 0 and not state.retired:
            self._died_starting(state, cause, detail, out)
        elif not self.stopping:
            # after.batch, a thread of the suite, or a kill from outside: say so
            error = f"worker {slot} died ({cause}) outside any scenario"
            out.hook_failures.append(HookFailure("worker exit", error, detail, slot))
        self._replace(state, out, "its fresh worker could not start")
        return self._after(out)

    def slot_timed_out(
        self, slot: int, timeout: float, detail: str = "", now: float = 0.0
    ) -> Decision:
        """Its running scenario passed ``--timeout``; the pool kills the worker after this.

        ``detail``: the worker's stack when the timeout fired. Nothing happens when the
        scenario finished in time (no scenario running).
        """
        state = self._slot(slot)
        if state is None or not state.running:
            return Decision()
        out = Draft()
        name = self._items[state.running].name
        out.notices.append(
            f"{name!r} exceeded --timeout {timeout:g} s on worker {slot}; killing the worker"
        )
        errored = self._errored(state, f"timed out after {timeout:g} s (--timeout)", detail, now)
        self._give_back(state, out)
        if errored is not None:
            self._settle(errored, out)
        self._replace(state, out, "its fresh worker could not start")
        return self._after(out)

    def slot_stopped(self, slot: int, *, recycle: bool = False, retire: bool = False) -> Decision:
        """Its worker ended by itself (after the end-of-work marker, ``halt``, or earlier).

        ``recycle``: ``--max-scenarios-per-worker`` reached, a fresh worker takes over.
        ``retire``: its import or before.batch failed (or hung), so a fresh worker would too.
        """
        state = self._slot(slot)
        if state is None:
            return Decision()
        out = Draft()
        state.retired = state.retired or retire
        if state.running and not self.stopping:
            reason = "the worker stopped before the scenario ended"
            errored = self._errored(state, reason, "", 0.0)
            self._give_back(state, out)
            if errored is not None:
                self._settle(errored, out)
        else:
            self._give_back(state, out)  # never started: it runs elsewhere (or not at all)
        if recycle and not state.retired:
            self._replace(state, out, "its fresh worker stopped")
        else:
            self._settle_reserved(state, "its fresh worker stopped", out)
            state.state = SlotState.DONE
        return self._after(out)

    # -- events of the run -------------------------------------------------------------
    def poll(self) -> Decision:
        """A look at a shared source from time to time: the source heartbeats what this
        machine holds (when due); another machine's work may have come back (given back,
        or its machine lost), or the build may be over."""
        self.source.beat()
        return self._after(Draft())

    def interrupt(self) -> Decision:
        """Ctrl-C (the first press): hand out nothing more; running scenarios finish."""
        out = Draft()
        self._stop(out)
        return out.freeze()

    def finish(self) -> Decision:
        """The run is over (every worker stopped, or killed): the rest is not run.

        Every selected scenario without a final record gets a final ``NOT_RUN`` record,
        in selection order: those never handed out, and after a second Ctrl-C those
        that were running when their workers were killed. Its ``attempt`` is the one that
        did not run (2 for a scenario whose first attempt failed and was to run again).
        """
        if self.finished:
            return Decision()
        self.finished = True
        out = Draft()
        for scenario_id in self.pending():
            self._final.add(scenario_id)
            self._open.discard(scenario_id)
            not_run = ScenarioResult(scenario_id, m.NOT_RUN, attempt=self.attempts(scenario_id))
            out.records.append(Record(not_run, final=True))
        for slot in self.slots:
            slot.entries, slot.running, slot.reserved = [], "", None
            slot.state = SlotState.DONE
        return out.freeze()

    # -- the rules ---------------------------------------------------------------------
    def _settle(self, result: ScenarioResult, out: Draft, notes: Sequence[str] = ()) -> None:
        """A record for the scenario's current attempt: final, or it runs again (--retry)."""
        scenario_id = result.scenario_id
        if scenario_id in self._final:
            return
        item = self._items[scenario_id]
        attempt = self.attempts(scenario_id)
        result = stamped(result, attempt, notes)
        if not self.stopping and self.rules.retry_after(item, result.status, attempt):
            out.records.append(Record(result, final=False))
            self.source.done(result, final=False)
            self._attempts[scenario_id] = attempt + 1
            self._requeue((item,), out)
            return
        self._final.add(scenario_id)
        self._open.discard(scenario_id)
        out.records.append(Record(result, final=True))
        self.source.done(result, final=True)
        if scenario_id == self._serial_in_flight:
            self._serial_in_flight = ""
            self._advance_serial()
        if self.rules.failfast and result.failed and not self.stopping:
            out.notices.append("--failfast: a scenario failed; letting running scenarios finish")
            self._stop(out)

    def _crashed_in(
        self, state: Slot, item: WorkItem, errored: ScenarioResult | None, cause: str, out: Draft
    ) -> None:
        """The worker died running ``item``: re-run it on a fresh worker, or it is errored."""
        if errored is None:
            return
        attempt = self.attempts(item.scenario_id)
        state.startup_deaths = 0
        notice = f"worker {state.number} died ({cause}) while running {item.name!r}"
        if not self.stopping and self.rules.rerun_after_crash(attempt):
            out.records.append(Record(errored, final=False))
            self.source.done(errored, final=False)
            self._attempts[item.scenario_id] = attempt + 1
            state.reserved = item
            notice += f"; re-running it on a fresh worker (attempt {attempt + 1})"
        else:
            self._settle(errored, out)
            if not self.stopping and (state.reserved or self._work_left()):
                notice += "; a fresh worker takes its place"
        out.notices.append(notice)

    def _died_starting(self, state: Slot, cause: str, detail: str, out: Draft) -> None:
        state.startup_deaths += 1
        if state.startup_deaths < STARTUP_DEATHS_ALLOWED:
            return
        state.retired = True
        error = (
            f"worker {state.number} died {state.startup_deaths} times before running "
            f"a scenario (last: {cause})"
        )
        out.hook_failures.append(HookFailure("worker start", error, detail, state.number))
        out.notices.append(f"worker {state.number} retired: {error}")

    def _errored(self, state: Slot, reason: str, detail: str, now: float) -> ScenarioResult | None:
        """The record of ``state``'s running scenario, ended by ``reason``; the slot lets go."""
        scenario_id = state.running
        if not scenario_id:
            return None
        known = bool(now and state.started_at)
        result = ScenarioResult.errored(
            scenario_id,
            reason,
            detail,
            duration=max(0.0, now - state.started_at) if known else 0.0,
            started_at=state.started_at,
            worker_id=state.number,
        )
        result = stamped(result, self.attempts(scenario_id), state.notes)
        state.let_go(scenario_id)
        return result

    # -- hand-out ----------------------------------------------------------------------
    def _after(self, out: Draft) -> Decision:
        """Give work to the slots that can take it; end the work once all is settled."""
        if not self.stopping and not self.finished:
            for slot in self.slots:
                self._fill(slot, out)
            if not self._open and not self._work_left():
                self._stop_all(out)
            elif not any(slot.live for slot in self.slots):
                self._revive(out)
        return out.freeze()

    def _revive(self, out: Draft) -> None:
        """Work came back after every slot ended: a slot that did not retire starts again.

        A slot ends when it dies with nothing left to hand out; a retry or the rest of a
        chunk can come back later, when the slot that held it dies or retires too.
        """
        if not self._work_left():
            return
        for slot in self.slots:
            if not slot.retired:
                slot.fresh_worker()
                out.restarts.append(slot.number)
                return

    def _fill(self, state: Slot, out: Draft) -> None:
        while (
            state.state is SlotState.READY
            and not state.told_to_stop
            and len(state.entries) < max(1, self.rules.depth)
        ):
            entry = self._take(state)
            if entry is None:
                return
            self._open.update(i for i in entry_ids(entry) if i not in self._final)
            state.entries.append(list(entry))
            out.sends.append(Send(state.number, entry))

    def _take(self, state: Slot) -> Entry | None:
        """The crashed scenario reserved for this slot, the next @serial one, the source's."""
        if state.reserved is not None:
            item, state.reserved = state.reserved, None
            return (item,)
        if self._serial_next is not None:
            item, self._serial_next = self._serial_next, None
            return (item,)
        return self.source.next_entry(state.number)

    def _advance_serial(self) -> None:
        """The next @serial scenario goes out once the previous one has its final record."""
        if self._serial_in_flight or not self._serial_waiting or self.stopping:
            return
        item = self._serial_waiting.pop(0)
        self._serial_in_flight = item.scenario_id
        self._serial_next = item

    def _requeue(self, entry: Entry, out: Draft) -> None:
        entry = tuple(item for item in entry if item.scenario_id not in self._final)
        if not entry:
            return
        out.requeued.extend(entry_ids(entry))
        if len(entry) == 1 and entry[0].scenario_id == self._serial_in_flight:
            self._serial_next = entry[0]  # still the chain's link: it keeps its place
        elif not self.stopping:  # once stopped, the source takes nothing back
            self.source.requeue(entry)

    def _give_back(self, state: Slot, out: Draft) -> None:
        """The slot's worker is gone: what it held and never finished runs elsewhere."""
        for entry in state.give_back():
            self._requeue(entry, out)
        state.running, state.started_at, state.notes = "", 0.0, []

    def _work_left(self) -> bool:
        """Work nobody holds: in the source, or the @serial link waiting to go out."""
        return self._serial_next is not None or self.source.remaining() > 0

    def _replace(self, state: Slot, out: Draft, why: str) -> None:
        """Start a fresh worker in ``state``'s position if there is work for it."""
        if self.stopping or state.retired or (state.reserved is None and not self._work_left()):
            self._settle_reserved(state, why, out)
            state.state = SlotState.DONE
            return
        state.fresh_worker()
        out.restarts.append(state.number)

    def _settle_reserved(self, state: Slot, why: str, out: Draft) -> None:
        item, state.reserved = state.reserved, None
        if item is None or self.stopping:
            return
        error = f"not re-run after its worker crashed: {why}"
        self._settle(ScenarioResult.errored(item.scenario_id, error, worker_id=state.number), out)

    # -- stopping ----------------------------------------------------------------------
    def _stop(self, out: Draft) -> None:
        if self.stopping or self.finished:
            return
        self.stopping = True
        out.halt = True
        self._serial_waiting.clear()
        for slot in self.slots:
            slot.reserved = None
        self.source.stop([slot.running for slot in self.slots if slot.running])
        self._stop_all(out)

    def _stop_all(self, out: Draft) -> None:
        for slot in self.slots:
            if slot.live and not slot.told_to_stop:
                slot.told_to_stop = True
                out.stops.append(slot.number)

    def _slot(self, number: int) -> Slot | None:
        if self.finished or not 0 <= number < len(self.slots):
            return None
        slot = self.slots[number]
        return slot if slot.live else None


def local_dispatcher(
    items: Sequence[WorkItem],
    slots: int,
    rules: Rules = Rules(),  # noqa: B008 - frozen, shared safely
    *,
    dist: str = "load",
    chunking: bool = True,
) -> Dispatcher:
    """A run on this machine: the scheduler's queue entries, ``@serial`` ones apart."""
    serial = [item for item in items if serial_tag(item)]
    others = [item for item in items if not serial_tag(item)]
    source = LocalQueue(queue_entries(others, slots, dist=dist, chunking=chunking))
    return Dispatcher(items, source, slots, rules, serial=serial)
